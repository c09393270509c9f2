/* swerl._turns: the Python dispatcher's hot path, in C.

   A ctypes call costs 0.3-0.45 us, as much as the library's work for a
   message, and a loop in Python pays a few more per batch. This module
   runs the dispatcher's loop (swerl_group_next, the batch's messages, the
   handler's answers) and ctx.send's common case with calls of the C API.
   It is optional: without it (no compiler when the package was built)
   swerl.dispatcher runs the same loop in Python, and the results are the
   same.

   It uses the library that swerl._ffi loaded: bind() takes the addresses
   of the functions it calls from there, so one process never holds two
   copies of libswerl. Everything that is not the common case (term data,
   exit reasons, a reply returned from handle, a crash, a bug) goes back to
   swerl.dispatcher in Python.

   Stable ABI (Python 3.10 on): one build serves every later Python. */

#define Py_LIMITED_API 0x030A0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>

#include "swerl.h"

/* -- the library's functions, bound once ---------------------------------- */

typedef int (*group_next_fn)(swerl_group *, swerl_turn *, uint32_t, uint32_t, uint32_t, swerl_turn **);
typedef int (*group_finish_fn)(swerl_turn *, uint32_t);
typedef int (*send_fn)(swerl_runtime *, swerl_pid, const void *, size_t);

static group_next_fn group_next;
static group_finish_fn group_finish;
static send_fn send;

/* The Python objects a message is made of (swerl.message), and the slow
   paths (swerl.dispatcher, swerl.delivery), bound once. */
static PyObject *message_type, *pid_type, *kinds, *undelivered, *send_word;
static newfunc tuple_new; /* tuple's tp_new: makes a Message (a tuple subclass) from its fields */

/* The last pid object sent to and its value: a producer sends to the same
   pid many times, and reading a multi-digit int costs more than the send. */
static PyObject *last_to;
static swerl_pid last_to_value;

/* -- Ctx: the fields of swerl.Ctx, so the driver makes one without a call -- */

typedef struct {
    PyObject_HEAD
    unsigned long long ptr;    /* swerl_ctx * */
    PyObject *runtime;         /* the swerl.Runtime */
    int valid;                 /* cleared when the callback or batch ends */
    unsigned long thread;      /* the thread it is valid on */
    unsigned long long rt;     /* swerl_runtime * (valid while a callback runs) */
} CtxObject;

static PyTypeObject *ctx_type;

static PyMemberDef ctx_members[] = {
    {"_ptr", T_ULONGLONG, offsetof(CtxObject, ptr), 0, NULL},
    {"runtime", T_OBJECT_EX, offsetof(CtxObject, runtime), 0, NULL},
    {"_valid", T_INT, offsetof(CtxObject, valid), 0, NULL},
    {"_thread", T_ULONG, offsetof(CtxObject, thread), 0, NULL},
    {"_rt", T_ULONGLONG, offsetof(CtxObject, rt), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static int ctx_traverse(CtxObject *self, visitproc visit, void *arg) {
    Py_VISIT(self->runtime);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int ctx_clear(CtxObject *self) {
    Py_CLEAR(self->runtime);
    return 0;
}

static void ctx_dealloc(CtxObject *self) {
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    ctx_clear(self);
    freefunc free_slot = (freefunc)PyType_GetSlot(type, Py_tp_free);
    free_slot(self);
    Py_DECREF(type);
}

static int pid_of(PyObject *to, swerl_pid *out) {
    if (to == last_to) {
        *out = last_to_value;
        return 1;
    }
    PyTypeObject *type = Py_TYPE(to);
    if (type != &PyLong_Type && (PyObject *)type != pid_type)
        return 0;
    unsigned long long value = PyLong_AsUnsignedLongLong(to);
    if (value == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (value == 0)
        return 0;
    Py_INCREF(to);
    Py_XDECREF(last_to);
    last_to = to;
    last_to_value = value;
    *out = value;
    return 1;
}

/* ctx.send(to, data): a pid and bytes here; anything else (a name, a node
   pair, a bytearray, a ctx used outside its turn) in Python (_send_other). */
static PyObject *ctx_send(CtxObject *self, PyObject *const *args, Py_ssize_t n) {
    swerl_pid to;
    if (n == 2 && self->valid && self->thread == PyThread_get_thread_ident() &&
        PyBytes_CheckExact(args[1]) && pid_of(args[0], &to)) {
        char *data = PyBytes_AsString(args[1]);
        Py_ssize_t size = PyBytes_Size(args[1]);
        if (data == NULL)
            return NULL;
        int rc = send((swerl_runtime *)(uintptr_t)self->rt, to, data, (size_t)size);
        if (rc >= 0)
            Py_RETURN_NONE;
        PyObject *code = PyLong_FromLong(rc);
        if (code == NULL)
            return NULL;
        PyObject *r = PyObject_CallFunctionObjArgs(undelivered, code, args[0], send_word, NULL);
        Py_DECREF(code);
        return r;
    }
    if (n != 2) {
        PyErr_SetString(PyExc_TypeError, "send() takes 2 arguments: to, data");
        return NULL;
    }
    return PyObject_CallMethod((PyObject *)self, "_send_other", "OO", args[0], args[1]);
}

static PyMethodDef ctx_methods[] = {
    {"send", (PyCFunction)(void (*)(void))ctx_send, METH_FASTCALL,
     "Send from this process (the receiver sees it as the sender). A send to a process that "
     "is not alive is quiet (a dead letter)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot ctx_slots[] = {
    {Py_tp_doc, "The fields of swerl.Ctx and its send, in C."},
    {Py_tp_members, ctx_members},
    {Py_tp_methods, ctx_methods},
    {Py_tp_traverse, ctx_traverse},
    {Py_tp_clear, ctx_clear},
    {Py_tp_dealloc, ctx_dealloc},
    {0, NULL},
};

static PyType_Spec ctx_spec = {
    "swerl._turns.CtxFields", sizeof(CtxObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, ctx_slots,
};

/* A Ctx of class `type` (swerl.Ctx, a subclass of CtxFields) with no call
   of its __init__. */
static PyObject *new_ctx(PyTypeObject *type, swerl_ctx *ptr, PyObject *runtime, unsigned long thread,
                         unsigned long long rt) {
    allocfunc alloc = (allocfunc)PyType_GetSlot(type, Py_tp_alloc);
    CtxObject *c = (CtxObject *)alloc(type, 0);
    if (c == NULL)
        return NULL;
    c->ptr = (uintptr_t)ptr;
    Py_INCREF(runtime);
    c->runtime = runtime;
    c->valid = 1;
    c->thread = thread;
    c->rt = rt;
    return (PyObject *)c;
}

/* -- the driver ----------------------------------------------------------- */

#define BATCH 256 /* messages of one process per swerl_group_next, at most */

/* What drive() takes from the swerl.dispatcher.Dispatcher it runs for. */
typedef struct {
    PyObject *driver;    /* the Dispatcher: the slow paths are its methods */
    PyObject *objects;   /* state -> process object (swerl.registry) */
    PyObject *runtime;   /* weakref to the swerl.Runtime */
    PyObject *running;   /* swerl.threads.running: thread id -> Ctx */
    PyTypeObject *ctx;   /* swerl.Ctx */
    unsigned long long rt;
    unsigned long thread;
    PyObject *thread_key;
    swerl_pid from;      /* the last message's sender, and its swerl.Pid */
    PyObject *sender;
    PyObject *new_args;  /* (fields,) for tuple's tp_new, reused */
} Driver;

/* Put `first` in the arguments tuple *args (made with `second`, or None),
   reused while nothing else holds a reference to it: a call per message
   then makes no tuple of its own. Returns 0, or -1 with an error set. */
static int reuse_with(PyObject **args, PyObject *first, PyObject *second) {
    if (*args != NULL && Py_REFCNT(*args) != 1)
        Py_CLEAR(*args);
    if (*args == NULL) {
        *args = second ? PyTuple_Pack(2, first, second) : PyTuple_Pack(1, first);
        return *args ? 0 : -1;
    }
    Py_INCREF(first);
    return PyTuple_SetItem(*args, 0, first); /* releases the previous one */
}

static int reuse(PyObject **args, PyObject *first) {
    return reuse_with(args, first, NULL);
}

/* A message as swerl.Message, or NULL with an error set. The common case
   (a plain message: no exit reason, no term) is made here; the others by
   the driver's _message(kind, code, sender, ref, data, flags). */
static PyObject *message_of(Driver *d, const swerl_message *m) {
    PyObject *data = PyBytes_FromStringAndSize(m->len ? (const char *)m->data : NULL, (Py_ssize_t)m->len);
    if (data == NULL)
        return NULL;
    if ((m->flags & SWERL_MESSAGE_TERM) || m->kind == SWERL_EXIT || m->kind == SWERL_DOWN) {
        PyObject *msg = PyObject_CallMethod(d->driver, "_message", "iiKKOI", (int)m->kind, (int)m->reason,
                                            (unsigned long long)m->from, (unsigned long long)m->ref, data,
                                            (unsigned)m->flags);
        Py_DECREF(data);
        return msg;
    }
    if (d->sender == NULL || d->from != m->from) { /* a batch's messages often have one sender */
        PyObject *from = PyLong_FromUnsignedLongLong((unsigned long long)m->from);
        PyObject *sender = from ? PyObject_CallFunctionObjArgs(pid_type, from, NULL) : NULL;
        Py_XDECREF(from);
        if (sender == NULL) {
            Py_DECREF(data);
            return NULL;
        }
        Py_XDECREF(d->sender);
        d->sender = sender;
        d->from = m->from;
    }
    PyObject *kind = PyLong_FromLong((long)m->kind);
    PyObject *known = kind ? PyDict_GetItemWithError(kinds, kind) : NULL; /* borrowed */
    if (known != NULL) {
        Py_INCREF(known);
        Py_DECREF(kind);
        kind = known;
    }
    PyObject *code = PyLong_FromLong((long)m->reason);
    PyObject *ref = PyLong_FromUnsignedLongLong((unsigned long long)m->ref);
    PyObject *fields = NULL, *msg = NULL;
    if (kind && code && ref && !PyErr_Occurred())
        fields = PyTuple_Pack(5, kind, code, d->sender, ref, data);
    if (fields != NULL && reuse(&d->new_args, fields) == 0) /* tuple's tp_new keeps no reference to it */
        msg = tuple_new((PyTypeObject *)message_type, d->new_args, NULL);
    Py_XDECREF(kind);
    Py_XDECREF(code);
    Py_XDECREF(ref);
    Py_XDECREF(fields);
    Py_DECREF(data);
    return msg;
}

/* handle(msg, c), with one arguments tuple per batch. */
static PyObject *call_handle(PyObject *handle, PyObject **args, PyObject *msg, PyObject *c) {
    if (reuse_with(args, msg, c) < 0)
        return NULL;
    return PyObject_Call(handle, *args, NULL);
}

/* The exception being raised, with its traceback, as one object (the
   error indicator cleared). */
static PyObject *take_exception(void) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL) {
        value = Py_None;
        Py_INCREF(value);
    } else if (tb != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}

/* An int a Python slow path returned, or `failed` when it raised (which is
   then reported as the driver's bug). */
static int int_result(const Driver *d, PyObject *r, int failed) {
    if (r == NULL) {
        PyObject *e = take_exception();
        PyObject *ignored = PyObject_CallMethod(d->driver, "_bug", "O", e);
        Py_XDECREF(ignored);
        Py_DECREF(e);
        PyErr_Clear();
        return failed;
    }
    long v = PyLong_AsLong(r);
    Py_DECREF(r);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return failed;
    }
    return (int)v;
}

/* What the handler's outcome means for the batch (swerl.h: results[i]):
   None is CONTINUE; a Control its code; the rest (a reply returned for a
   CALL, a wrong value, an exception) is settled by the driver in Python. */
static int32_t result_of(const Driver *d, PyObject *r, swerl_turn *t, const swerl_message *m, PyObject *c,
                         PyObject *control_type, PyObject *ignore) {
    if (r == NULL) {
        PyObject *e = take_exception();
        int failed = int_result(d, PyObject_CallMethod(d->driver, "_crash_with", "KO",
                                                       (unsigned long long)(uintptr_t)t->ctx, e), -1);
        Py_DECREF(e);
        return failed;
    }
    if (r == Py_None)
        return SWERL_CONTINUE;
    if ((PyObject *)Py_TYPE(r) == control_type && r != ignore) {
        PyObject *code = PyObject_GetAttrString(r, "code");
        return int_result(d, code, -1);
    }
    return int_result(d, PyObject_CallMethod(d->driver, "_settle", "OiKKO", r, (int)m->kind,
                                             (unsigned long long)m->ref,
                                             (unsigned long long)(uintptr_t)t->ctx, c), -1);
}

#define RUNTIME_GONE UINT32_MAX

/* Handle the batch `t` as the rules of swerl_turn say; returns how many
   messages it handled (the rest go back to the mailbox), or RUNTIME_GONE
   when the swerl.Runtime is being collected (none handled). */
static uint32_t run_batch(Driver *d, swerl_turn *t, PyObject *control_type, PyObject *ignore) {
    PyObject *runtime = PyObject_CallNoArgs(d->runtime);
    if (runtime == NULL || runtime == Py_None) {
        Py_XDECREF(runtime);
        PyErr_Clear();
        return RUNTIME_GONE;
    }
    uint32_t handled = 0;
    PyObject *c = new_ctx(d->ctx, t->ctx, runtime, d->thread, d->rt);
    PyObject *key = PyLong_FromVoidPtr(t->state);
    PyObject *proc = key ? PyDict_GetItemWithError(d->objects, key) : NULL; /* borrowed */
    PyObject *handle = proc ? PyObject_GetAttrString(proc, "handle") : NULL;
    if (c == NULL || handle == NULL || PyDict_SetItem(d->running, d->thread_key, c) < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_KeyError, "no process object for a batch");
        int_result(d, NULL, 0);
        goto end;
    }
    int skipped = 0;
    PyObject *args = NULL;
    handled = t->count;
    for (uint32_t i = 0; i < t->count; i++) {
        const swerl_message *m = &t->messages[i];
        t->current = i;
        if (m->flags & SWERL_MESSAGE_WITHDRAWN)
            continue;
        PyObject *msg = message_of(d, m);
        PyObject *r = msg ? call_handle(handle, &args, msg, c) : NULL;
        int32_t result = result_of(d, r, t, m, c, control_type, ignore);
        Py_XDECREF(r);
        Py_XDECREF(msg);
        if (result != SWERL_CONTINUE) { /* results start as CONTINUE */
            t->results[i] = result;
            if (result == SWERL_SKIP) {
                skipped = 1;
                continue;
            }
            handled = i + 1;
            break;
        }
        if (skipped) {
            handled = i + 1;
            break;
        }
    }
    Py_XDECREF(args);
    if (PyDict_DelItem(d->running, d->thread_key) < 0)
        PyErr_Clear();
end:
    if (c != NULL)
        ((CtxObject *)c)->valid = 0;
    Py_XDECREF(c);
    Py_XDECREF(key);
    Py_XDECREF(handle);
    Py_DECREF(runtime);
    return handled;
}

/* drive(group, rt, dispatcher, control_type, ignore): take and handle
   batches until the runtime stops or is being collected (returns None) or
   swerl_group_next fails (returns its code). Waits with the GIL released; takes with it held (a
   take that finds a batch queued is shorter than a hand-off of the GIL). */
static PyObject *drive(PyObject *module, PyObject *args) {
    unsigned long long group_address, rt;
    PyObject *driver, *control_type, *ignore;
    if (!PyArg_ParseTuple(args, "KKOOO", &group_address, &rt, &driver, &control_type, &ignore))
        return NULL;
    (void)module;
    if (group_next == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "swerl._turns: bind() first");
        return NULL;
    }
    Driver d = {driver, NULL, NULL, NULL, NULL, rt, PyThread_get_thread_ident(), NULL, 0, NULL, NULL};
    d.objects = PyObject_GetAttrString(driver, "_objects");
    d.runtime = PyObject_GetAttrString(driver, "_runtime");
    d.running = PyObject_GetAttrString(driver, "_running");
    d.ctx = (PyTypeObject *)PyObject_GetAttrString(driver, "_ctx_type");
    d.thread_key = PyLong_FromUnsignedLong(d.thread);
    PyObject *result = NULL;
    if (!d.objects || !d.runtime || !d.running || !d.ctx || !d.thread_key)
        goto end;
    if (!PyType_Check((PyObject *)d.ctx) || !PyType_IsSubtype(d.ctx, ctx_type)) {
        PyErr_SetString(PyExc_TypeError, "the dispatcher's _ctx_type is not a CtxFields");
        goto end;
    }
    swerl_group *g = (swerl_group *)(uintptr_t)group_address;
    swerl_turn *done = NULL;
    uint32_t handled = 0;
    for (;;) {
        swerl_turn *t = NULL;
        int rc = group_next(g, done, handled, BATCH, 0, &t);
        done = NULL;
        handled = 0;
        if (rc == 0) {
            PyObject *r = PyObject_CallMethod(driver, "_wait_begin", NULL);
            Py_XDECREF(r);
            if (r == NULL)
                goto end;
            Py_BEGIN_ALLOW_THREADS
            rc = group_next(g, NULL, 0, BATCH, SWERL_INFINITY, &t);
            Py_END_ALLOW_THREADS
            r = PyObject_CallMethod(driver, "_wait_end", "i", rc);
            Py_XDECREF(r);
            if (r == NULL)
                goto end;
        }
        if (rc < 0) {
            result = rc == SWERL_ESTOPPED ? Py_None : PyLong_FromLong(rc);
            Py_XINCREF(result == Py_None ? result : NULL);
            break;
        }
        if (rc == 0 || t == NULL)
            continue; /* swerl_group_wake */
        done = t;
        handled = run_batch(&d, t, control_type, ignore);
        if (handled == RUNTIME_GONE) {
            /* Its close stops the runtime, which drives the group itself
               once no thread does: a thread that took and gave back turns
               here would make them runnable at once, for ever, holding the
               GIL the close needs. */
            Py_BEGIN_ALLOW_THREADS
            group_finish(t, 0);
            Py_END_ALLOW_THREADS
            result = Py_None;
            Py_INCREF(result);
            break;
        }
    }
end:
    Py_XDECREF(d.objects);
    Py_XDECREF(d.runtime);
    Py_XDECREF(d.running);
    Py_XDECREF((PyObject *)d.ctx);
    Py_XDECREF(d.thread_key);
    Py_XDECREF(d.sender);
    Py_XDECREF(d.new_args);
    return result;
}

static int address_of(PyObject *value, void **out) {
    unsigned long long a = PyLong_AsUnsignedLongLong(value);
    if (a == (unsigned long long)-1 && PyErr_Occurred())
        return 0;
    if (a == 0) {
        PyErr_SetString(PyExc_ValueError, "a NULL function address");
        return 0;
    }
    *out = (void *)(uintptr_t)a;
    return 1;
}

static void keep(PyObject **slot, PyObject *value) {
    PyObject *old = *slot;
    Py_INCREF(value);
    *slot = value;
    Py_XDECREF(old);
}

/* bind(group_next, group_finish, send, Message, Pid, kinds, undelivered): the library's
   functions (addresses, from swerl._ffi's handle) and the Python objects a
   message and a dead letter are made with. */
static PyObject *bind(PyObject *module, PyObject *args) {
    PyObject *next_address, *finish_address, *send_address, *message, *pid, *kind_map, *on_undelivered;
    if (!PyArg_ParseTuple(args, "OOOOOO!O", &next_address, &finish_address, &send_address, &message, &pid,
                          &PyDict_Type, &kind_map, &on_undelivered))
        return NULL;
    (void)module;
    void *next_fn, *finish_fn, *send_f;
    if (!address_of(next_address, &next_fn) || !address_of(finish_address, &finish_fn) ||
        !address_of(send_address, &send_f))
        return NULL;
    group_next = (group_next_fn)next_fn;
    group_finish = (group_finish_fn)finish_fn;
    send = (send_fn)send_f;
    keep(&message_type, message);
    keep(&pid_type, pid);
    keep(&kinds, kind_map);
    keep(&undelivered, on_undelivered);
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"bind", bind, METH_VARARGS, "bind(group_next, group_finish, send, Message, Pid, kinds, undelivered)"},
    {"drive", drive, METH_VARARGS,
     "drive(group, rt, dispatcher, Control, IGNORE): run the group's batches until the runtime stops"},
    {NULL, NULL, 0, NULL},
};

static int module_exec(PyObject *module) {
    ctx_type = (PyTypeObject *)PyType_FromSpec(&ctx_spec);
    if (ctx_type == NULL || PyModule_AddObject(module, "CtxFields", (PyObject *)ctx_type) < 0)
        return -1;
    Py_INCREF(ctx_type); /* kept here as well as in the module */
    send_word = PyUnicode_FromString("send");
    PyObject *tuple = (PyObject *)&PyTuple_Type;
    tuple_new = (newfunc)PyType_GetSlot((PyTypeObject *)tuple, Py_tp_new);
    if (send_word == NULL || tuple_new == NULL)
        return -1;
    return PyModule_AddIntConstant(module, "BATCH", BATCH);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "swerl._turns", "The Python dispatcher's hot path, in C (optional).", 0,
    module_methods, module_slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__turns(void) {
    return PyModuleDef_Init(&module_def);
}
