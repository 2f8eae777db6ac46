/* Native versions of the hottest loops of moderation screening (the checks' own loops
 * are in _native_checks.c).
 *
 * Each function gives exactly what its pure-Python twin in scoring/ (textnorm.py,
 * window.py, spam.py) gives (tests compare them on random text), only without the
 * interpreter's per-item cost:
 *
 *   shingle_codes(t, ab)          -> (the 3-grams as sorted packed codes, MinHash signature)
 *   codes(shingles)               -> an iterable of str shingles as sorted packed codes
 *   signature(shingles, ab)       -> MinHash signature of an iterable of str
 *   count_similar(sigs, sig, thr) -> how many of `sigs` share >= thr of `sig`'s slots
 *   caps_counts(text, judge)      -> (cased letters, upper-case ones) of `text`
 *   margin_parts(words, cache, miss) -> the spam classifier's dot product and squared norm
 *   nearest(sh, keys, index, seen, since, thr, min_bands)
 *                                 -> (most similar earlier message or None, its Jaccard)
 *   index_add, index_drop, untrack: the index's bookkeeping (_native_index.c)
 *
 * A shingle's hash is the CRC-32 of its UTF-8 bytes (zlib's polynomial); slot j of the
 * signature is min over shingles of ((crc * a[j] + b[j]) mod 2^64) >> 32, with `ab` the
 * MinHasher's a[] then b[] as native uint64. Built on first use by bot/native.py.
 *
 * Natively a text's shingles are not a set of str but its 3-grams packed into uint64
 * (three 21-bit code points; a text of one or two characters gets bit 63, its length and
 * its code points), sorted and unique, in a bytes object: no object per 3-gram, and two
 * texts' exact Jaccard is one merge. The packing is one-to-one, so the Jaccard is the
 * one of the str sets.
 */
#include "_native.h"

#define MAX_SLOTS 256

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

/* CRC-32 of the UTF-8 encoding of code points data[start:end] (as zlib.crc32). */
static uint32_t crc_utf8(int kind, const void *data, Py_ssize_t start, Py_ssize_t end) {
    uint32_t c = 0xFFFFFFFFu;
    unsigned char buf[4];
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 cp = PyUnicode_READ(kind, data, i);
        int n;
        if (cp < 0x80) { buf[0] = (unsigned char)cp; n = 1; }
        else if (cp < 0x800) { buf[0] = 0xC0 | (cp >> 6); buf[1] = 0x80 | (cp & 0x3F); n = 2; }
        else if (cp < 0x10000) {
            buf[0] = 0xE0 | (cp >> 12); buf[1] = 0x80 | ((cp >> 6) & 0x3F); buf[2] = 0x80 | (cp & 0x3F); n = 3;
        } else {
            buf[0] = 0xF0 | (cp >> 18); buf[1] = 0x80 | ((cp >> 12) & 0x3F);
            buf[2] = 0x80 | ((cp >> 6) & 0x3F); buf[3] = 0x80 | (cp & 0x3F); n = 4;
        }
        for (int k = 0; k < n; k++) c = crc_table[(c ^ buf[k]) & 0xFF] ^ (c >> 8);
    }
    return c ^ 0xFFFFFFFFu;
}

/* The hash functions: `ab` holds n multipliers then n offsets (uint64, native order). */
typedef struct {
    Py_buffer view;
    const uint64_t *a, *b;
    Py_ssize_t n;
} Hashes;

static int hashes_get(PyObject *ab, Hashes *h) {
    if (PyObject_GetBuffer(ab, &h->view, PyBUF_SIMPLE) < 0) return -1;
    Py_ssize_t n = h->view.len / 16;
    if (n <= 0 || n > MAX_SLOTS || h->view.len != n * 16) {
        PyBuffer_Release(&h->view);
        PyErr_SetString(PyExc_ValueError, "ab must hold 1 to 256 uint64 multipliers and as many offsets");
        return -1;
    }
    h->a = (const uint64_t *)h->view.buf;
    h->b = h->a + n;
    h->n = n;
    return 0;
}

static void fold(const Hashes *h, uint32_t *sig, uint32_t crc) {
    uint64_t x = crc;
    for (Py_ssize_t j = 0; j < h->n; j++) {
        uint32_t v = (uint32_t)((x * h->a[j] + h->b[j]) >> 32);
        if (v < sig[j]) sig[j] = v;
    }
}

static uint64_t gram_code(int kind, const void *data, Py_ssize_t i, Py_ssize_t width) {
    uint64_t c0 = PyUnicode_READ(kind, data, i);
    if (width == 3)
        return (c0 << 42) | ((uint64_t)PyUnicode_READ(kind, data, i + 1) << 21) | PyUnicode_READ(kind, data, i + 2);
    uint64_t c1 = width == 2 ? PyUnicode_READ(kind, data, i + 1) : 0;
    return (1ULL << 63) | ((uint64_t)width << 42) | (c0 << 21) | c1;
}

static int cmp_u64(const void *x, const void *y) {
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Sort and deduplicate codes[0:n] in place; returns how many are left. */
static Py_ssize_t sort_unique(uint64_t *codes, Py_ssize_t n) {
    if (n < 2) return n;
    qsort(codes, (size_t)n, sizeof *codes, cmp_u64);
    Py_ssize_t m = 1;
    for (Py_ssize_t i = 1; i < n; i++)
        if (codes[i] != codes[m - 1]) codes[m++] = codes[i];
    return m;
}

static PyObject *shingle_codes(PyObject *self, PyObject *args) {
    PyObject *t, *ab;
    if (!PyArg_ParseTuple(args, "UO:shingle_codes", &t, &ab)) return NULL;
    Hashes h;
    if (hashes_get(ab, &h) < 0) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(t);
    if (n == 0) {
        PyBuffer_Release(&h.view);
        return Py_BuildValue("(y#y#)", "", (Py_ssize_t)0, "", (Py_ssize_t)0);
    }
    int kind = PyUnicode_KIND(t);
    const void *data = PyUnicode_DATA(t);
    Py_ssize_t grams = n <= 3 ? 1 : n - 2, width = n <= 3 ? n : 3;
    uint64_t local[512];
    uint64_t *codes = grams <= 512 ? local : PyMem_Malloc((size_t)grams * sizeof *codes);
    if (codes == NULL) {
        PyBuffer_Release(&h.view);
        return PyErr_NoMemory();
    }
    uint32_t slots[MAX_SLOTS];
    memset(slots, 0xFF, sizeof slots);
    for (Py_ssize_t i = 0; i < grams; i++) {
        codes[i] = gram_code(kind, data, i, width);
        fold(&h, slots, crc_utf8(kind, data, i, i + width));
    }
    Py_ssize_t m = sort_unique(codes, grams);
    PyObject *out = Py_BuildValue("(y#y#)", (const char *)codes, m * 8, (const char *)slots, h.n * 4);
    if (codes != local) PyMem_Free(codes);
    PyBuffer_Release(&h.view);
    return out;
}

static PyObject *codes(PyObject *self, PyObject *items) {
    PyObject *seq = PySequence_Fast(items, "codes() takes an iterable of str shingles");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    uint64_t *out = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *out);
    if (out == NULL) { Py_DECREF(seq); return PyErr_NoMemory(); }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *g = PySequence_Fast_GET_ITEM(seq, i);
        Py_ssize_t w = PyUnicode_Check(g) ? PyUnicode_GET_LENGTH(g) : 0;
        if (w < 1 || w > 3) {
            PyErr_SetString(PyExc_ValueError, "a shingle is a str of 1 to 3 characters");
            PyMem_Free(out);
            Py_DECREF(seq);
            return NULL;
        }
        out[i] = gram_code(PyUnicode_KIND(g), PyUnicode_DATA(g), 0, w);
    }
    Py_DECREF(seq);
    Py_ssize_t m = sort_unique(out, n);
    PyObject *b = PyBytes_FromStringAndSize((const char *)out, m * 8);
    PyMem_Free(out);
    return b;
}

static PyObject *signature(PyObject *self, PyObject *args) {
    PyObject *items, *ab;
    if (!PyArg_ParseTuple(args, "OO:signature", &items, &ab)) return NULL;
    Hashes h;
    if (hashes_get(ab, &h) < 0) return NULL;
    PyObject *it = PyObject_GetIter(items), *g;
    if (it == NULL) { PyBuffer_Release(&h.view); return NULL; }
    uint32_t slots[MAX_SLOTS];
    memset(slots, 0xFF, sizeof slots);
    Py_ssize_t seen = 0;
    while ((g = PyIter_Next(it)) != NULL) {
        if (!PyUnicode_Check(g)) {
            PyErr_Format(PyExc_TypeError, "shingles must be str, not %.100s", Py_TYPE(g)->tp_name);
            Py_DECREF(g);
            break;
        }
        fold(&h, slots, crc_utf8(PyUnicode_KIND(g), PyUnicode_DATA(g), 0, PyUnicode_GET_LENGTH(g)));
        Py_DECREF(g);
        seen++;
    }
    Py_DECREF(it);
    PyBuffer_Release(&h.view);
    if (PyErr_Occurred()) return NULL;
    return PyBytes_FromStringAndSize((const char *)slots, seen ? h.n * 4 : 0);
}

static PyObject *count_similar(PyObject *self, PyObject *args) {
    PyObject *sigs;
    const char *sig;
    Py_ssize_t len;
    double threshold;
    if (!PyArg_ParseTuple(args, "Oy#d:count_similar", &sigs, &sig, &len, &threshold)) return NULL;
    PyObject *seq = PySequence_Fast(sigs, "sigs must be a sequence of bytes");
    if (seq == NULL) return NULL;
    Py_ssize_t slots = len / 4, hits = 0;
    if (slots > 0) {
        const uint32_t *mine = (const uint32_t *)sig;
        Py_ssize_t m = PySequence_Fast_GET_SIZE(seq);
        PyObject **items = PySequence_Fast_ITEMS(seq);
        for (Py_ssize_t i = 0; i < m; i++) {
            PyObject *o = items[i];
            if (!PyBytes_Check(o) || PyBytes_GET_SIZE(o) != len) continue;
            const uint32_t *other = (const uint32_t *)PyBytes_AS_STRING(o);
            Py_ssize_t equal = 0;
            for (Py_ssize_t j = 0; j < slots; j++) equal += mine[j] == other[j];
            if ((double)equal / (double)slots >= threshold) hits++;
        }
    }
    Py_DECREF(seq);
    return PyLong_FromSsize_t(hits);
}

/* GroupWindow.cluster_for's search: the earlier messages sharing >= min_bands band keys
 * with this one (in the order the keys first meet them), each still in the window and
 * not too different in size, compared by exact Jaccard of their shingles. */
#define MAX_CANDIDATES 1024  /* a power of two; slot_of holds twice as many */

static PyObject *nearest(PyObject *self, PyObject *args) {
    PyObject *sh, *keys, *index, *seen;
    double since, threshold;
    int min_bands;
    if (!PyArg_ParseTuple(args, "OO!O!O!ddi:nearest", &sh, &PyTuple_Type, &keys, &PyDict_Type, &index, &PyDict_Type,
                          &seen, &since, &threshold, &min_bands))
        return NULL;
    if (!PyBytes_Check(sh) || PyBytes_GET_SIZE(sh) % 8) {
        PyErr_SetString(PyExc_TypeError, "nearest: sh must be the packed codes of shingle_codes()");
        return NULL;
    }
    const uint64_t *mine = (const uint64_t *)PyBytes_AS_STRING(sh);
    /* Candidates in the order the keys first meet them, counted in a small open-addressed
     * table on their numbers (16 buckets of at most 8: a table of 2^10 stays sparse). */
    PyObject *seqs[MAX_CANDIDATES];
    long long nums[MAX_CANDIDATES];
    int counts[MAX_CANDIDATES];
    short slot_of[2 * MAX_CANDIDATES];
    memset(slot_of, 0xFF, sizeof slot_of);
    Py_ssize_t n = 0;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(keys); k++) {
        PyObject *b = PyDict_GetItemWithError(index, PyTuple_GET_ITEM(keys, k));
        if (b == NULL) {
            if (PyErr_Occurred()) return NULL;
            continue;
        }
        /* A bucket of one is the message's number itself, else a tuple of numbers. */
        Py_ssize_t m = PyTuple_Check(b) ? PyTuple_GET_SIZE(b) : 1;
        for (Py_ssize_t i = 0; i < m; i++) {
            PyObject *q = PyTuple_Check(b) ? PyTuple_GET_ITEM(b, i) : b;
            long long v = PyLong_AsLongLong(q);
            if (v == -1 && PyErr_Occurred()) return NULL;
            size_t h = ((unsigned long long)v * 0x9E3779B97F4A7C15ull) >> 53;  /* 11 bits */
            while (slot_of[h] >= 0 && nums[slot_of[h]] != v) h = (h + 1) & (2 * MAX_CANDIDATES - 1);
            if (slot_of[h] >= 0) counts[slot_of[h]]++;
            else if (n < MAX_CANDIDATES) {
                slot_of[h] = (short)n;
                seqs[n] = q;
                nums[n] = v;
                counts[n] = 1;
                n++;
            }
        }
    }
    Py_ssize_t size = PyBytes_GET_SIZE(sh) / 8;
    PyObject *best = Py_None;
    double best_sim = 0.0;
    for (Py_ssize_t j = 0; j < n; j++) {
        if (counts[j] < min_bands) continue;
        PyObject *s = PyDict_GetItemWithError(seen, seqs[j]);
        if (s == NULL) {
            if (PyErr_Occurred()) return NULL;
            PyErr_SetString(PyExc_KeyError, "an indexed message is missing from the window");
            return NULL;
        }
        if (!PyTuple_Check(s) || PyTuple_GET_SIZE(s) < 4 || !PyBytes_Check(PyTuple_GET_ITEM(s, 3))) {
            PyErr_SetString(PyExc_TypeError, "the window's entries must be Seen tuples");
            return NULL;
        }
        double ts = PyFloat_AsDouble(PyTuple_GET_ITEM(s, 0));
        if (ts == -1.0 && PyErr_Occurred()) return NULL;
        if (ts < since) continue;
        PyObject *other = PyTuple_GET_ITEM(s, 3);
        Py_ssize_t osize = PyBytes_GET_SIZE(other) / 8;
        /* Jaccard is at most the smaller size over the larger. */
        if ((double)(size < osize ? size : osize) < threshold * (double)(size < osize ? osize : size)) continue;
        const uint64_t *theirs = (const uint64_t *)PyBytes_AS_STRING(other);
        Py_ssize_t inter = 0, a = 0, b = 0;
        while (a < size && b < osize) {  /* both sorted: one merge */
            if (mine[a] < theirs[b]) a++;
            else if (mine[a] > theirs[b]) b++;
            else { inter++; a++; b++; }
        }
        double sim = (double)inter / (double)(size + osize - inter);
        if (sim >= threshold && sim > best_sim) {
            best = s;
            best_sim = sim;
        }
    }
    return Py_BuildValue("(Od)", best, best_sim);
}

static PyMethodDef methods[] = {
    {"shingle_codes", shingle_codes, METH_VARARGS, "(text, ab) -> (sorted packed 3-gram codes, MinHash signature bytes)"},
    {"codes", codes, METH_O, "(iterable of str shingles) -> their sorted packed codes"},
    {"signature", signature, METH_VARARGS, "(iterable of str, ab) -> MinHash signature bytes"},
    {"count_similar", count_similar, METH_VARARGS, "(sigs, sig, threshold) -> count of sigs this similar"},
    {"caps_counts", caps_counts, METH_VARARGS, "(text, judge) -> (cased letters, upper-case letters)"},
    {"margin_parts", margin_parts, METH_VARARGS, "(words, cache, miss) -> (dot, squared norm) of the classifier"},
    {"nearest", nearest, METH_VARARGS, "(sh, keys, index, seen, since, threshold, min_bands) -> (Seen or None, sim)"},
    {"index_add", index_add, METH_VARARGS, "(index, keys, seq, cap) -> None: seq joins each key's bucket"},
    {"index_drop", index_drop, METH_VARARGS, "(index, keys, seq) -> None: seq leaves each key's bucket"},
    {"untrack", untrack, METH_O, "(t) -> t, untracked by the garbage collector if it holds only untracked values"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void) {
    crc_init();
    native_checks_init();
    return PyModule_Create(&module);
}
