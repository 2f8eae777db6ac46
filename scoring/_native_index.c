/* The near-duplicate index's bookkeeping (scoring/window.py's GroupWindow), and a way to
 * take atomic tuples out of the garbage collector's sight (see _native.c).
 *
 *   index_add(index, keys, seq, cap)  -> None: message `seq` joins each key's bucket
 *   index_drop(index, keys, seq)      -> None: message `seq` leaves each key's bucket
 *   untrack(t)                        -> t, no longer tracked if it holds only untracked values
 *
 * A bucket is the one message's number (an int) or a tuple of numbers, oldest first, at
 * most `cap` long: exactly what GroupWindow's Python loops make. The tuples made here are
 * untracked at once. CPython's collector untracks a tuple of atomic values itself, but
 * only at the first collection that walks it: under load (tens of thousands of buckets
 * replaced a second) those tuples were most of every young collection, each a 6-15 ms
 * pause of the event loop (bench/load.py --workers 2).
 */
#include "_native.h"

/* `t` without the collector: CPython's own rule (_PyTuple_MaybeUntrack) applied now. */
static void untrack_if_atomic(PyObject *t) {
    if (!PyTuple_Check(t) || !PyObject_GC_IsTracked(t) || Py_TYPE(t)->tp_dictoffset != 0) return;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(t); i++) {
        PyObject *v = PyTuple_GET_ITEM(t, i);
        if (v == NULL || (PyObject_IS_GC(v) && PyObject_GC_IsTracked(v))) return;
    }
    PyObject_GC_UnTrack(t);
}

PyObject *untrack(PyObject *self, PyObject *t) {
    untrack_if_atomic(t);
    return Py_NewRef(t);
}

/* A new untracked tuple: `n` items of `src` from `from`, then `last` unless NULL. */
static PyObject *bucket_of(PyObject *src, Py_ssize_t from, Py_ssize_t n, PyObject *last) {
    PyObject *t = PyTuple_New(n + (last != NULL));
    if (t == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) PyTuple_SET_ITEM(t, i, Py_NewRef(PyTuple_GET_ITEM(src, from + i)));
    if (last != NULL) PyTuple_SET_ITEM(t, n, Py_NewRef(last));
    untrack_if_atomic(t);
    return t;
}

PyObject *index_add(PyObject *self, PyObject *args) {
    PyObject *index, *keys, *seq;
    Py_ssize_t cap;
    if (!PyArg_ParseTuple(args, "O!O!O!n:index_add", &PyDict_Type, &index, &PyTuple_Type, &keys, &PyLong_Type, &seq, &cap))
        return NULL;
    if (cap < 2) {
        PyErr_SetString(PyExc_ValueError, "index_add: cap must be at least 2");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(keys); k++) {
        PyObject *key = PyTuple_GET_ITEM(keys, k);
        PyObject *b = PyDict_GetItemWithError(index, key), *nb;
        if (b == NULL) {
            if (PyErr_Occurred()) return NULL;
            nb = Py_NewRef(seq);  /* a bucket of one is the number itself */
        } else if (PyLong_Check(b)) {
            PyObject *pair = PyTuple_Pack(2, b, seq);
            if (pair == NULL) return NULL;
            untrack_if_atomic(pair);
            nb = pair;
        } else if (PyTuple_Check(b)) {
            Py_ssize_t m = PyTuple_GET_SIZE(b);
            /* a very common text must not make lookups slow: the oldest goes */
            nb = m < cap ? bucket_of(b, 0, m, seq) : bucket_of(b, 1, m - 1, seq);
            if (nb == NULL) return NULL;
        } else {
            PyErr_SetString(PyExc_TypeError, "index_add: a bucket must be an int or a tuple of ints");
            return NULL;
        }
        int rc = PyDict_SetItem(index, key, nb);
        Py_DECREF(nb);
        if (rc < 0) return NULL;
    }
    Py_RETURN_NONE;
}

PyObject *index_drop(PyObject *self, PyObject *args) {
    PyObject *index, *keys, *seq;
    if (!PyArg_ParseTuple(args, "O!O!O!:index_drop", &PyDict_Type, &index, &PyTuple_Type, &keys, &PyLong_Type, &seq))
        return NULL;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(keys); k++) {
        PyObject *key = PyTuple_GET_ITEM(keys, k);
        PyObject *b = PyDict_GetItemWithError(index, key);
        if (b == NULL) {
            if (PyErr_Occurred()) return NULL;
            continue;
        }
        if (!PyTuple_Check(b)) {
            int eq = PyObject_RichCompareBool(b, seq, Py_EQ);
            if (eq < 0 || (eq && PyDict_DelItem(index, key) < 0)) return NULL;
            continue;
        }
        Py_ssize_t m = PyTuple_GET_SIZE(b), keep = 0;
        for (Py_ssize_t i = 0; i < m; i++) {
            int eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(b, i), seq, Py_EQ);
            if (eq < 0) return NULL;
            keep += !eq;
        }
        if (keep == m) continue;
        /* What is left, in order; one number left is the bucket itself, as in Python. */
        PyObject *nb = PyTuple_New(keep);
        if (nb == NULL) return NULL;
        for (Py_ssize_t i = 0, j = 0; i < m; i++) {
            PyObject *q = PyTuple_GET_ITEM(b, i);
            int eq = PyObject_RichCompareBool(q, seq, Py_EQ);
            if (eq < 0) {
                Py_DECREF(nb);
                return NULL;
            }
            if (!eq) PyTuple_SET_ITEM(nb, j++, Py_NewRef(q));
        }
        if (keep == 1) {
            PyObject *only = Py_NewRef(PyTuple_GET_ITEM(nb, 0));
            Py_DECREF(nb);
            nb = only;
        } else {
            untrack_if_atomic(nb);
        }
        int rc = PyDict_SetItem(index, key, nb);
        Py_DECREF(nb);
        if (rc < 0) return NULL;
    }
    Py_RETURN_NONE;
}
