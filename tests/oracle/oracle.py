"""CPython's own answer to "what runs at start-up" for a generated environment (issue 18).

    python -I -S tests/oracle/oracle.py spec.json            contract JSON on stdout
    python -I -S tests/oracle/oracle.py --batch < list.txt    one spec path a line in, one JSON line out

The interpreter that runs this file is the oracle for its own X.Y: this file calls that
interpreter's own `site` functions (`removeduppaths`, `venv`, `addusersitepackages`,
`addsitepackages`, and through them `addsitedir` and `addpackage`) and locates modules with its
own `importlib.machinery.PathFinder`. Nothing planted in the environment is ever executed:

- `-I -S` is required (checked): no `site` at start-up, so no `.pth` file, `sitecustomize` or
  `usercustomize` of this machine or of the tree is imported by this process.
- `site` is given a `sys` of its own (`_SiteSys`): its `path` is a list this file owns, while the
  real `sys.path` stays the interpreter's standard library, so a lazy import inside `site`
  (`traceback`, `locale`, `sysconfig`) can never reach the tree.
- the name `exec` in `site`'s namespace is a recorder: it compiles the line (compiling runs
  nothing; a line that does not compile raises as `exec` would, and `site` then ignores the rest
  of the file, as it does for real) and records it. The line is never run.
- modules are only located, never imported: top-level names only, with
  `PathFinder.find_spec(name, final_sys_path)` and a fresh `sys.path_importer_cache`.

What is modelled rather than asked: the `sys.path` that getpath computes before `site` runs,
for a prefix that is not this interpreter's own (see `presite_path`). The locale is whatever the
process has; `compare.py` runs the oracle under `LC_ALL=C.UTF-8`.

Beyond the contract in `README.md`: the spec may give `platlibdir` (3.9+) and `layout`; the
answer adds `fatal` when an exception escapes `site` (the interpreter does not start) and, on a
module, `cached` when its `__pycache__` bytecode runs instead of the source.
"""

import ast
import importlib.machinery
import json
import os
import sys
import types

# Everything `site` may import lazily is imported here, from the standard library, before any
# tree path is in play (the real `sys.path` is never changed anyway).
import io  # noqa: F401  (site's addpackage, 3.8+)
import locale  # noqa: F401  (3.13's fallback decoding)
import stat  # noqa: F401  (3.13's hidden-file check)
import traceback  # noqa: F401  (site's error report for a bad line)
import zipimport

import site

CONTRACT_KEYS = ("version", "sys_path", "pth", "modules")


class OracleError(Exception):
    """The spec cannot be answered (not a finding about the environment)."""


def check_isolation():
    if not (sys.flags.isolated and sys.flags.no_site):
        raise OracleError("run the oracle with `-I -S` (isolated, no site)")
    for name in ("sitecustomize", "usercustomize"):
        if name in sys.modules:
            raise OracleError("`%s` is imported in the oracle process" % name)


def interpreter_version():
    return "%d.%d" % sys.version_info[:2]


class _SiteSys(types.ModuleType):
    """The `sys` that `site` sees: own `path`, `prefix`, `executable`; the rest is the real one."""

    def __init__(self, overrides):
        types.ModuleType.__init__(self, "sys")
        self.__dict__.update(overrides)

    def __getattr__(self, name):
        return getattr(sys, name)


class _Recorder(object):
    """Records what `site.addpackage` runs (`exec`) and appends (path lines)."""

    def __init__(self):
        self.events = []

    def _where(self, frame):
        loc = frame.f_locals
        if frame.f_code.co_name == "_exec_imports":  # 3.15
            return loc.get("filename"), getattr(loc.get("imports"), "current", None)
        n = loc.get("n", 0)
        # 3.13+ enumerates `pth_content.splitlines()` from 1; earlier versions the file from 0
        line = n if "pth_content" in loc else n + 1
        return loc.get("fullname"), line

    def exec_(self, source, *rest):
        frame = sys._getframe(1)
        # compile, never run: a line that does not compile raises here as exec(line) would
        compile(source, "<string>", "exec")
        fullname, line = self._where(frame)
        text = source[:-1] if source.endswith("\n") else source
        self.events.append({"file": fullname, "line": line, "action": "exec", "text": text})

    def make_path(self, items):
        recorder = self

        class RecordingPath(list):
            def append(self, item):
                frame = sys._getframe(1)
                name = frame.f_code.co_name
                if frame.f_globals is not vars(site):
                    pass
                elif name == "addpackage":
                    fullname, line = recorder._where(frame)
                    recorder.events.append(
                        {"file": fullname, "line": line, "action": "path", "text": item})
                elif name == "_extend_syspath" and frame.f_locals.get("filename"):
                    # 3.15: the batch's ledger, applied; the line is the one whose
                    # makepath gave this directory (see `makepath_`)
                    fullname = frame.f_locals["filename"]
                    recorder.events.append({"file": fullname,
                                            "line": recorder.path_lines.get((fullname, item)),
                                            "action": "path", "text": item})
                list.append(self, item)

        return RecordingPath(items)

    # 3.15 (PEP 829): `StartupState` reads every `.pth` and `.start` file of the batch first
    # and applies them later, so the line a path, import line or entry point came from is
    # taken where it is read.

    path_lines = None

    def makepath_(self, original):
        self.path_lines = {}

        def makepath(*paths):
            result = original(*paths)
            frame = sys._getframe(1)
            if frame.f_code.co_name == "_read_pth_file":
                key = (frame.f_locals.get("filename"), result[0])
                self.path_lines.setdefault(key, frame.f_locals.get("n"))
            return result

        return makepath

    def entrypoint(self, real_pkgutil):
        """`site.pkgutil`: `resolve_name` checks the entry point with the real
        `pkgutil.resolve_name` (its own pattern), stopped before it imports anything, records
        it, and returns a callable that does nothing."""
        recorder = self

        class Stop(Exception):
            pass

        class NoImport(object):
            @staticmethod
            def import_module(name, package=None):
                raise Stop(name)

        class Pkgutil(object):
            @staticmethod
            def resolve_name(name, strict=False):
                frame = sys._getframe(1)
                saved = real_pkgutil.importlib
                real_pkgutil.importlib = NoImport
                try:
                    real_pkgutil.resolve_name(name, strict=strict)
                except Stop:
                    pass
                finally:
                    real_pkgutil.importlib = saved
                lines = frame.f_locals.get("entrypoints")
                recorder.events.append({"file": frame.f_locals.get("filename"),
                                        "line": getattr(lines, "current", None),
                                        "action": "entrypoint", "text": name})
                return lambda: None

        return Pkgutil()


class _Lines(list):
    """A list of a `.pth` file's import lines or a `.start` file's entry points (3.15) that
    remembers each one's line number, taken from the reading frame's `n`, and, while iterated,
    the number of the item being processed (`current`)."""

    current = None

    def append(self, item):
        list.append(self, item)
        self.numbers = getattr(self, "numbers", []) + [sys._getframe(1).f_locals.get("n")]

    def __iter__(self):
        for i, item in enumerate(list.__iter__(self)):
            self.current = self.numbers[i]
            yield item


class _LinesDict(dict):
    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = _Lines()
        return self[key]


def presite_path(spec, base_prefix):
    """The `sys.path` before `site` runs. MODELLED (getpath), not asked: `PYTHONPATH` entries,
    then `<base>/<platlibdir>/pythonXY.zip`, `<base>/<platlibdir>/pythonX.Y` and its
    `lib-dynload`, whether they exist or not, with the base prefix of a venv (getpath finds it
    from `pyvenv.cfg`'s `home`; the spec gives it). Every entry is made absolute by `site`'s
    `removeduppaths()` afterwards, so getpath's own normalisation (3.11+) changes nothing."""
    entries = []
    pythonpath = (spec.get("env") or {}).get("PYTHONPATH")
    if pythonpath:
        for entry in pythonpath.split(os.pathsep):
            if not os.path.isabs(entry):
                # an empty or relative entry is relative to the working directory, which the
                # spec does not give
                raise OracleError("PYTHONPATH entry %r is not absolute" % entry)
            entries.append(entry)
    libdir = platlibdir(spec)
    xy = "%d%d" % sys.version_info[:2]
    x_y = "%d.%d" % sys.version_info[:2]
    entries.append(os.path.join(base_prefix, libdir, "python%s.zip" % xy))
    entries.append(os.path.join(base_prefix, libdir, "python%s" % x_y))
    entries.append(os.path.join(base_prefix, libdir, "python%s" % x_y, "lib-dynload"))
    return entries


def platlibdir(spec):
    """`sys.platlibdir` (3.9+; `lib` before): the spec's `platlibdir` if it gives one (Fedora's
    `lib64`), else this interpreter's."""
    if sys.version_info < (3, 9):
        return "lib"
    return spec.get("platlibdir") or sys.platlibdir


def check_layout(spec):
    """A spec may ask for Debian's `dist-packages` layout, which only a Debian-patched `site`
    can answer."""
    layout = spec.get("layout")
    if layout in (None, "upstream"):
        return
    patched = any("dist-packages" in p for p in site.getsitepackages(["/p"]))
    if layout != "debian" or not patched:
        raise OracleError("layout %r needs an interpreter whose `site` has it" % layout)


def imported_names(text):
    """Top-level names an executed line imports (absolute imports only), in order."""
    names = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names.extend(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.append(node.module.split(".")[0])
    return names


def locate(name, path):
    """Where `PathFinder` finds top-level `name` on `path`; never imports anything."""
    if "." in name:
        raise OracleError("only top-level names are located: %r" % name)
    saved = sys.path_importer_cache
    sys.path_importer_cache = {}
    try:
        spec = importlib.machinery.PathFinder.find_spec(name, list(path))
    except Exception as exc:  # e.g. 3.6's zipimport compiles a member to name it
        # `import name` raises this at start-up (and site reports it)
        return {"file": None, "kind": "error", "origin": type(exc).__name__}
    finally:
        sys.path_importer_cache = saved
    if spec is None:
        return None
    loader = spec.loader
    if isinstance(loader, zipimport.zipimporter):
        # the member as CPython names it (`__file__`): `<archive>/<member>`
        return {"file": spec.origin, "kind": "zip", "origin": spec.origin}
    if loader is None:
        locations = spec.submodule_search_locations
        portions = getattr(locations, "_path", None)
        if portions is None:
            portions = list(locations)
        return {"file": None, "kind": "namespace", "origin": None, "portions": list(portions)}
    if spec.submodule_search_locations is not None:
        kind = "package"
    elif isinstance(loader, importlib.machinery.SourceFileLoader):
        kind = "source"
    elif isinstance(loader, importlib.machinery.SourcelessFileLoader):
        kind = "bytecode"
    elif isinstance(loader, importlib.machinery.ExtensionFileLoader):
        kind = "extension"
    else:
        raise OracleError("unknown loader %r for %r" % (loader, name))
    result = {"file": spec.origin, "kind": kind, "origin": spec.origin}
    cached = cached_bytecode(spec)
    if cached is not None:
        # not in the model's contract yet: this bytecode runs, not the source `file`
        result["cached"] = cached
    return result


def cached_bytecode(spec):
    """The `__pycache__` file that runs instead of the source `spec` names, or None: the
    decision `SourceLoader.get_code` makes (PEP 3147 name, then PEP 552 flags: a timestamp pyc
    whose mtime and size match the source, a checked hash pyc whose hash matches, an unchecked
    hash pyc always), with the same private helpers, reading only. Nothing is unmarshalled."""
    import _imp
    import importlib._bootstrap_external as be
    loader = spec.loader
    if not isinstance(loader, importlib.machinery.SourceFileLoader):
        return None
    source_path = spec.origin
    try:
        bytecode_path = be.cache_from_source(source_path)
    except NotImplementedError:
        return None
    try:
        st = loader.path_stats(source_path)
        data = loader.get_data(bytecode_path)
    except OSError:
        return None
    details = {"name": spec.name, "path": bytecode_path}
    try:
        if not hasattr(be, "_classify_pyc"):  # 3.6: timestamp pycs only
            be._validate_bytecode_header(data, source_stats=st, name=spec.name,
                                         path=bytecode_path)
            return bytecode_path
        flags = be._classify_pyc(data, spec.name, details)
        if flags & 0b1:
            check_source = flags & 0b10
            mode = _imp.check_hash_based_pycs
            if mode != "never" and (check_source or mode == "always"):
                # the key get_code hashes with: 3.14 renamed it
                key = getattr(_imp, "pyc_magic_number_token", None)
                if key is None:
                    key = be._RAW_MAGIC_NUMBER
                source_hash = _imp.source_hash(key, loader.get_data(source_path))
                be._validate_hash_pyc(data, source_hash, spec.name, details)
        else:
            be._validate_timestamp_pyc(data, int(st["mtime"]), st["size"], spec.name, details)
    except (ImportError, EOFError):
        return None
    return bytecode_path


def reset_site():
    """`site`'s module state as a fresh `import site` under `-S` leaves it."""
    site.ENABLE_USER_SITE = None
    site.USER_SITE = None
    site.USER_BASE = None
    zipimport._zip_directory_cache.clear()
    sysconfig = sys.modules.get("sysconfig")
    if sysconfig is not None:
        sysconfig._CONFIG_VARS = None  # 3.6 reads the user base through sysconfig


def run(spec):
    version = interpreter_version()
    if spec.get("version") != version:
        raise OracleError("spec is for %s, this interpreter is %s" % (spec.get("version"), version))
    prefix = spec["prefix"]
    kind = spec.get("kind")
    if kind not in ("system", "venv"):
        raise OracleError("kind must be `system` or `venv`: %r" % kind)
    base = spec.get("venv_base_prefix") if kind == "venv" else prefix
    if not base:
        raise OracleError("a venv spec needs `venv_base_prefix`")

    check_layout(spec)
    recorder = _Recorder()
    # getpath leaves a venv's sys.prefix at the base (<= 3.13) and site.venv() moves it; 3.14's
    # getpath sets it to the venv when it finds `pyvenv.cfg` (beside or above the executable)
    # — the directory that holds it, beside the executable first: `bin/pyvenv.cfg` makes
    # `<venv>/bin` the prefix (checked against the real 3.14 and 3.15)
    sys_prefix = base
    if sys.version_info >= (3, 14) and kind == "venv":
        for d in ("bin", ""):
            if os.path.isfile(os.path.join(prefix, d, "pyvenv.cfg")):
                sys_prefix = os.path.normpath(os.path.join(prefix, d))
                break
    site_sys = _SiteSys({
        "path": recorder.make_path(presite_path(spec, base)),
        "prefix": sys_prefix,
        "exec_prefix": sys_prefix,
        "base_prefix": base,
        "base_exec_prefix": base,
        # the interpreter of the environment; site.venv() looks for pyvenv.cfg beside and above
        "executable": os.path.join(prefix, "bin", "python"),
        "platlibdir": platlibdir(spec),
    })
    user_base = spec.get("user_base")
    saved_environ = os.environ.get("PYTHONUSERBASE")
    reset_site()
    site.sys = site_sys
    site.exec = recorder.exec_
    site.PREFIXES = [sys_prefix, sys_prefix]
    site.USER_BASE = user_base
    batched = hasattr(site, "StartupState")  # 3.15, PEP 829
    if batched:
        import pkgutil
        original_makepath = site.makepath
        site.makepath = recorder.makepath_(original_makepath)
        site.pkgutil = recorder.entrypoint(pkgutil)
    if user_base is not None:
        os.environ["PYTHONUSERBASE"] = user_base  # 3.6 asks sysconfig, which reads it
    fatal = None
    try:
        # site.main(), path part, in its order
        known = site.removeduppaths()
        if batched:
            # one batch: every path of every site directory, then import lines, then entry
            # points (3.15's main())
            state = site.StartupState(set())
            state._importexecs = _LinesDict()
            state._entrypoints = _LinesDict()
            site._venv(state)
        else:
            known = site.venv(known)
        if site.ENABLE_USER_SITE is None:
            site.ENABLE_USER_SITE = bool(spec.get("enable_user_site"))
        if batched:
            if user_base is not None:
                state.addusersitepackages()
            state.addsitepackages()
            state.process()
        else:
            if user_base is not None:
                known = site.addusersitepackages(known)
            known = site.addsitepackages(known)
    except Exception as exc:  # site's import fails, and with it the interpreter
        fatal = type(exc).__name__
    finally:
        site.sys = sys
        del site.exec
        if batched:
            site.makepath = original_makepath
            site.pkgutil = pkgutil
        if saved_environ is None:
            os.environ.pop("PYTHONUSERBASE", None)
        else:
            os.environ["PYTHONUSERBASE"] = saved_environ
    final_path = list(site_sys.path)

    names = []
    for name in spec.get("modules", []):
        if name not in names:
            names.append(name)
    for event in recorder.events:
        if event["action"] == "exec":
            found = imported_names(event["text"])
        elif event["action"] == "entrypoint":
            found = [event["text"].split(":")[0].split(".")[0]]
        else:
            found = []
        for name in found:
            if name not in names:
                names.append(name)
    modules = {}
    for name in names:
        modules[name] = locate(name, final_path)

    result = {"version": version, "sys_path": final_path, "pth": recorder.events,
              "modules": modules}
    if fatal is not None:
        # not in the model's contract: the interpreter does not start (e.g. a .pth that is not
        # UTF-8 under a UTF-8 locale); what ran before it died is still listed
        result["fatal"] = fatal
    return result


def answer(path):
    with open(path, "rb") as f:
        spec = json.loads(f.read().decode("utf-8"))
    return run(spec)


def main(argv):
    try:
        check_isolation()
        if len(argv) == 2 and argv[1] == "--batch":
            for line in sys.stdin:
                path = line.rstrip("\n")
                if path:
                    try:
                        result = answer(path)
                    except OracleError as exc:
                        result = {"oracle_error": str(exc)}
                    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
                    sys.stdout.flush()
            return 0
        if len(argv) != 2 or argv[1].startswith("-"):
            sys.stderr.write("usage: python -I -S oracle.py SPEC.json | --batch\n")
            return 2
        sys.stdout.write(json.dumps(answer(argv[1]), indent=1, sort_keys=True) + "\n")
        return 0
    except OracleError as exc:
        sys.stderr.write("oracle: %s\n" % exc)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
