"""Stub CUDA libraries so that PyPI's Linux torch wheel imports without its
nvidia-* wheels, for CPU-only inference (make peers-venv).

PyPI has only the CUDA build of torch for Linux x86_64. Its libraries name
the CUDA ones (libcudart, libcublas, libcudnn, libnccl, ...) as DT_NEEDED,
so without the ~4 GB of nvidia-* wheels `import torch` fails at dlopen. No
CPU code path calls into them, so each missing library is replaced here by
a small stub that defines every symbol torch's libraries ask of it (with
the symbol versions they ask for), each a function that returns a nonzero
status: the "no device" answer CUDA, cuBLAS, cuDNN and NCCL all read as
failure. Functions named like *ErrorString / *ErrorName return a message
instead, since callers print what they return. torch then reports
torch.cuda.is_available() == False, as on any machine without a GPU.

Usage: python cuda_stubs.py TORCH_LIB_DIR [CC]
Writes the stubs into TORCH_LIB_DIR (its libraries' RPATH includes $ORIGIN),
each recorded in TORCH_LIB_DIR/cuda-stubs.txt. Needs readelf and a C compiler.
"""
import os
import re
import subprocess
import sys
import tempfile

STATUS = 100  # cudaErrorNoDevice / CUDA_ERROR_NO_DEVICE; nonzero = failure everywhere
MESSAGE = "CUDA is not installed: this torch runs on the CPU only (groupvit-edge peers venv)"
STRINGY = re.compile(r"(ErrorString|ErrorName|GetString|GetResultString)$")


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], check=True, capture_output=True, text=True).stdout


def needed(path):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", readelf("-d", path))


def version_needs(path):
    """{version name: soname that must provide it}, from .gnu.version_r."""
    out, current = {}, None
    for line in readelf("-V", path).splitlines():
        m = re.search(r"File: (\S+)", line)
        if m:
            current = m.group(1)
        m = re.search(r"Name: (\S+)\s+Flags", line)
        if m and current:
            out[m.group(1)] = current
    return out


def undefined(path):
    """[(name, version or None, type)] of the undefined dynamic symbols."""
    out = []
    for line in readelf("--dyn-syms", path).splitlines():
        f = line.split()
        if len(f) >= 8 and f[6] == "UND" and f[7]:
            name, _, ver = f[7].partition("@")
            out.append((name, ver.split(" ")[0] or None, f[3]))
    return out


def resolvable(soname, libdir):
    """Whether the dynamic loader finds soname: in libdir or the ld.so cache."""
    if os.path.exists(os.path.join(libdir, soname)):
        return True
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    return re.search(r"^\s*" + re.escape(soname) + r" \(", cache, re.M) is not None


def plan(libdir):
    """{missing soname: {version or None: {symbol: type}}}."""
    libs = [f for f in sorted(os.listdir(libdir)) if ".so" in f and not f.endswith(".txt")]
    stubs = {}
    for lib in libs:
        path = os.path.join(libdir, lib)
        missing = sorted(n for n in needed(path) if not resolvable(n, libdir))
        if not missing:
            continue
        owner = version_needs(path)
        for soname in missing:
            stubs.setdefault(soname, {})
        for name, ver, typ in undefined(path):
            if ver is not None:
                soname = owner.get(ver)
                if soname in missing:
                    stubs[soname].setdefault(ver, {})[name] = typ
            else:
                # unversioned (e.g. the driver API of libcuda.so.1): the first
                # missing library of this file provides it, if nothing else does
                stubs[missing[0]].setdefault(None, {})[name] = typ
    return stubs


def defined_elsewhere(libdir):
    """Symbols the present libraries (torch's and the system's they load) define."""
    names = set()
    for lib in os.listdir(libdir):
        if ".so" not in lib:
            continue
        for line in readelf("--dyn-syms", os.path.join(libdir, lib)).splitlines():
            f = line.split()
            if len(f) >= 8 and f[6] != "UND":
                names.add(f[7].partition("@")[0])
    return names


def c_source(symbols):
    lines = [f'static const char message[] = "{MESSAGE}";']
    for name, typ in sorted(symbols.items()):
        if typ == "OBJECT":
            lines.append(f"char {name}[256];")
        elif STRINGY.search(name):
            lines.append(f"const char *{name}(void) {{ return message; }}")
        else:
            lines.append(f"long {name}(void) {{ return {STATUS}; }}")
    return "\n".join(lines) + "\n"


def version_script(versions):
    nodes = []
    for ver, syms in sorted(versions.items(), key=lambda kv: kv[0] or ""):
        if ver is None:
            continue
        nodes.append("%s {\n  global:\n%s\n};" % (ver, "\n".join(f"    {s};" for s in sorted(syms))))
    return "\n".join(nodes) + "\n" if nodes else ""


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    libdir, cc = sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "cc"
    stubs = plan(libdir)
    elsewhere = defined_elsewhere(libdir)
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        for soname, versions in sorted(stubs.items()):
            if None in versions:
                versions[None] = {s: t for s, t in versions[None].items() if s not in elsewhere and not s.startswith("_")}
            symbols = {s: t for syms in versions.values() for s, t in syms.items()}
            src, vs = os.path.join(tmp, soname + ".c"), os.path.join(tmp, soname + ".map")
            with open(src, "w") as f:
                f.write(c_source(symbols))
            cmd = [cc, "-shared", "-fPIC", "-O1", "-o", os.path.join(libdir, soname), f"-Wl,-soname,{soname}", src]
            script = version_script(versions)
            if script:
                with open(vs, "w") as f:
                    f.write(script)
                cmd.append(f"-Wl,--version-script={vs}")
            subprocess.run(cmd, check=True)
            made.append(f"{soname} {len(symbols)}")
            print(f"cuda-stubs: {soname}: {len(symbols)} symbol(s)")
    with open(os.path.join(libdir, "cuda-stubs.txt"), "w") as f:
        f.write("# CPU-only stubs written by groupvit-edge scripts/cuda_stubs.py: soname, symbols\n")
        f.write("\n".join(made) + "\n")


if __name__ == "__main__":
    main()
