/* The moderation checks' loops of the native module (see _native.c): caps_ratio's count
 * and the spam classifier's per-word sums. Same results as their Python twins. */
#include "_native.h"

/* caps_ratio's count: each character judged once per process by `judge(ch)` (0 no
 * case, 1 lower, 2 upper), remembered for the Basic Multilingual Plane. */
static signed char case_bmp[65536];

void native_checks_init(void) { memset(case_bmp, 0xFF, sizeof case_bmp); }

PyObject *caps_counts(PyObject *self, PyObject *args) {
    PyObject *t, *judge;
    if (!PyArg_ParseTuple(args, "UO:caps_counts", &t, &judge)) return NULL;
    int kind = PyUnicode_KIND(t);
    const void *data = PyUnicode_DATA(t);
    Py_ssize_t n = PyUnicode_GET_LENGTH(t), letters = 0, upper = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 cp = PyUnicode_READ(kind, data, i);
        long c = cp < 65536 ? case_bmp[cp] : -1;
        if (c < 0) {
            PyObject *ch = PyUnicode_FromOrdinal((int)cp);
            if (ch == NULL) return NULL;
            PyObject *r = PyObject_CallOneArg(judge, ch);
            Py_DECREF(ch);
            if (r == NULL) return NULL;
            c = PyLong_AsLong(r);
            Py_DECREF(r);
            if (c == -1 && PyErr_Occurred()) return NULL;
            if (c < 0 || c > 2) {
                PyErr_SetString(PyExc_ValueError, "judge must return 0, 1 or 2");
                return NULL;
            }
            if (cp < 65536) case_bmp[cp] = (signed char)c;
        }
        if (c) {
            letters++;
            upper += c == 2;
        }
    }
    return Py_BuildValue("(nn)", letters, upper);
}

/* SpamModel.margin's loop over a text's words: each word's (columns, weight sum) from
 * `cache`, or from `miss(word)` when it is not there; returns (the weights' sum in word
 * order, the sum of squared column counts), the two halves of the l2-normed dot product. */
PyObject *margin_parts(PyObject *self, PyObject *args) {
    PyObject *words, *cache, *miss;
    if (!PyArg_ParseTuple(args, "O!O!O:margin_parts", &PyList_Type, &words, &PyDict_Type, &cache, &miss)) return NULL;
    size_t cap = 1024;
    uint32_t *keys = PyMem_Malloc(cap * sizeof *keys), *counts = PyMem_Calloc(cap, sizeof *counts);
    size_t used = 0;
    double dot = 0.0;
    if (keys == NULL || counts == NULL) goto nomem;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(words); i++) {
        PyObject *w = PyList_GET_ITEM(words, i);
        PyObject *hit = PyDict_GetItemWithError(cache, w);
        if (hit != NULL) Py_INCREF(hit);
        else if (PyErr_Occurred()) goto fail;
        else if ((hit = PyObject_CallOneArg(miss, w)) == NULL) goto fail;
        if (!PyTuple_Check(hit) || PyTuple_GET_SIZE(hit) != 2 || !PyTuple_Check(PyTuple_GET_ITEM(hit, 0))) {
            Py_DECREF(hit);
            PyErr_SetString(PyExc_TypeError, "a word's entry must be (columns tuple, weight)");
            goto fail;
        }
        double weight = PyFloat_AsDouble(PyTuple_GET_ITEM(hit, 1));
        if (weight == -1.0 && PyErr_Occurred()) { Py_DECREF(hit); goto fail; }
        dot += weight;
        PyObject *cols = PyTuple_GET_ITEM(hit, 0);
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(cols); j++) {
            long c = PyLong_AsLong(PyTuple_GET_ITEM(cols, j));
            if (c == -1 && PyErr_Occurred()) { Py_DECREF(hit); goto fail; }
            if (c < 0 || c > 0x7FFFFFFF) { Py_DECREF(hit); PyErr_SetString(PyExc_ValueError, "column out of range"); goto fail; }
            if (2 * (used + 1) > cap) {  /* grow the table, at most half full */
                size_t ncap = cap * 2;
                uint32_t *nk = PyMem_Malloc(ncap * sizeof *nk), *nc = PyMem_Calloc(ncap, sizeof *nc);
                if (nk == NULL || nc == NULL) { PyMem_Free(nk); PyMem_Free(nc); Py_DECREF(hit); goto nomem; }
                for (size_t k = 0; k < cap; k++) {
                    if (!counts[k]) continue;
                    size_t h = ((uint64_t)keys[k] * 0x9E3779B97F4A7C15ull) & (ncap - 1);
                    while (nc[h]) h = (h + 1) & (ncap - 1);
                    nk[h] = keys[k];
                    nc[h] = counts[k];
                }
                PyMem_Free(keys); PyMem_Free(counts);
                keys = nk; counts = nc; cap = ncap;
            }
            size_t h = ((uint64_t)c * 0x9E3779B97F4A7C15ull) & (cap - 1);
            while (counts[h] && keys[h] != (uint32_t)c) h = (h + 1) & (cap - 1);
            if (!counts[h]) { keys[h] = (uint32_t)c; used++; }
            counts[h]++;
        }
        Py_DECREF(hit);
    }
    unsigned long long sq = 0;
    for (size_t k = 0; k < cap; k++) sq += (unsigned long long)counts[k] * counts[k];
    PyMem_Free(keys); PyMem_Free(counts);
    return Py_BuildValue("(dK)", dot, sq);
nomem:
    PyErr_NoMemory();
fail:
    PyMem_Free(keys); PyMem_Free(counts);
    return NULL;
}
