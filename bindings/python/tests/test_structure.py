"""The package's structure (issue 12, item 4): every module passes
``mypy --strict``, and the modules import each other in layers: the shared
types in leaf modules, no cycle, no import inside a function.

``make deps`` installs mypy; run by hand without it, the mypy test is
skipped, saying so."""

import ast
import importlib.util
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)  # bindings/python
SRC = os.path.join(PROJECT, "src")
PACKAGE = os.path.join(SRC, "swerl")

# The leaves: what each may import of the package (the C ABI declarations at most).
LEAVES = {
    "_ffi": set(),
    "memory_map": set(),
    "registry": set(),
    "errors": {"_ffi"},
    "shared_binary": {"_ffi", "errors"},  # SharedBinary: a message's data may be one
    "message": {"_ffi", "terms", "shared_binary"},  # Kind, Reason, Pid, Ref, Message (Message.term: the pure codec)
    "terms": set(),  # the pure-Python codec
    "control": {"_ffi", "shared_binary"},  # CONTINUE, SKIP, STOP, IGNORE; a CALL may answer with a SharedBinary
}


def _modules():
    return sorted(f[:-3] for f in os.listdir(PACKAGE) if f.endswith(".py"))


def _is_type_checking(node):
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test)


def _package_imports(node):
    """The package's modules one import statement names ("" for the package)."""
    if isinstance(node, ast.ImportFrom) and node.level == 1:
        if node.module:
            return {node.module.split(".")[0]}
        return {alias.name for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("swerl"):
        return {(node.module or "").partition(".")[2]}
    if isinstance(node, ast.Import):
        return {a.name.partition(".")[2] for a in node.names if a.name.split(".")[0] == "swerl"}
    return set()


def _imports(module):
    """(what it imports when it is loaded, what functions or classes import)."""
    with open(os.path.join(PACKAGE, module + ".py")) as f:
        tree = ast.parse(f.read())
    loaded, nested = set(), set()

    def visit(node, inside):
        if _is_type_checking(node):
            return  # for annotations only: never run
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            inside = True
        (nested if inside else loaded).update(_package_imports(node))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return loaded - {module}, nested


def test_no_import_inside_a_function():
    """A module's imports are at its top: a function-local import hides a
    cycle that layering would break."""
    found = {m: sorted(n) for m in _modules() for n in [_imports(m)[1]] if n}
    assert not found, found


def test_leaf_modules_import_only_the_c_abi():
    for module, allowed in LEAVES.items():
        loaded, _ = _imports(module)
        assert loaded <= allowed, "%s imports %s" % (module, sorted(loaded - allowed))


def test_modules_import_each_other_without_a_cycle():
    graph = {m: _imports(m)[0] - {""} for m in _modules() if m != "__init__"}
    done, path = set(), []

    def walk(m):
        if m in path:
            raise AssertionError("import cycle: %s" % " -> ".join(path[path.index(m):] + [m]))
        if m in done:
            return
        path.append(m)
        for n in sorted(graph.get(m, ())):
            walk(n)
        path.pop()
        done.add(m)

    for m in sorted(graph):
        walk(m)


# What swerl.supervisor and swerl.aio may use of a Runtime besides its public
# methods: the internal interface its docstring lists.
INTERNAL = {"_p", "_registry", "_child_behavior", "_c_arg_free"}


def _is_runtime(node):
    """`rt`, `runtime`, `self.rt` or `self.runtime`."""
    if isinstance(node, ast.Name):
        return node.id in ("rt", "runtime")
    return (isinstance(node, ast.Attribute) and node.attr in ("rt", "runtime")
            and isinstance(node.value, ast.Name) and node.value.id == "self")


def test_supervisor_and_aio_use_only_the_runtime_internal_interface():
    import swerl

    for name in sorted(INTERNAL):
        assert "``%s" % name in swerl.Runtime.__doc__, "Runtime's docstring does not list %s" % name
    for module in ("supervisor", "aio"):
        with open(os.path.join(PACKAGE, module + ".py")) as f:
            tree = ast.parse(f.read())
        used = {node.attr for node in ast.walk(tree)
                if isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__") and _is_runtime(node.value)}
        assert used <= INTERNAL, "%s uses Runtime.%s" % (module, sorted(used - INTERNAL))


def test_mypy_strict(request):
    """``mypy --strict bindings/python/src`` finds nothing."""
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (pip install mypy), so the package's types are not "
                    "checked here")
    cache = str(request.config.cache.mkdir("mypy"))
    p = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", cache, SRC],
                       cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
