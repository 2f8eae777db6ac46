/* What the parts of the native module share (see _native.c). */
#ifndef COMMUNITYBOT_NATIVE_H
#define COMMUNITYBOT_NATIVE_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* _native_checks.c: the checks' loops. */
void native_checks_init(void);
PyObject *caps_counts(PyObject *self, PyObject *args);
PyObject *margin_parts(PyObject *self, PyObject *args);

/* _native_index.c: the near-duplicate index's bookkeeping. */
PyObject *untrack(PyObject *self, PyObject *t);
PyObject *index_add(PyObject *self, PyObject *args);
PyObject *index_drop(PyObject *self, PyObject *args);

#endif
