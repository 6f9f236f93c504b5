#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""llama.cpp's quantizer (what llama-quantize runs) called through ctypes, for benchmarks.

    llama_quantize.py LIBDIR IN.gguf OUT.gguf TYPE [--threads N] [--verbose]
    llama_quantize.py --find-lib NODE_DIR
    llama_quantize.py --list-types

LIBDIR is the folder holding llama.cpp's shared libraries (libllama*.so, libggml*.so). The
test tools install them from npm: node-llama-cpp's prebuilt CPU build, package
@node-llama-cpp/linux-x64, folder
    tests/node/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
(`--find-lib tests/node` prints it). TYPE is a llama-quantize type name (q8_0, q4_k_m, q6_k,
q5_k_m, q4_0, f16, ...; --list-types shows them) or a llama_ftype number. Prints one JSON line:
{"ok": true, "seconds": S, ...}; S times the llama_model_quantize call alone. Exit 1 on failure.

Standard library only. The parameter struct mirrors llama.h of the llama.cpp that
node-llama-cpp 3.21.1 ships (its llama/gitRelease.bundle, release "v0.4.0", build b1-5b4ebc5):

    typedef struct llama_model_quantize_params {
        int32_t nthread;                 // offset 0
        enum llama_ftype ftype;          // offset 4
        enum ggml_type output_tensor_type;
        enum ggml_type token_embedding_type;
        bool allow_requantize, quantize_output_tensor, only_copy, pure, keep_split, dry_run;
        const struct llama_model_imatrix_data * imatrix;
        const struct llama_model_kv_override * kv_overrides;
        const struct llama_model_tensor_override * tt_overrides;
        const int32_t * prune_layers;
        size_t max_buf_size;
    } llama_model_quantize_params;   // 64 bytes on x86-64

The defaults come from llama_model_quantize_default_params(); only nthread and ftype are set
here. The defaults are checked against what that version returns, so a library whose layout
differs is refused instead of being handed a wrong struct.
"""
import ctypes
import glob
import json
import os
import sys
import time

# llama_ftype (llama.h; spec/formats.md section 2). Names as llama-quantize spells them.
FTYPES = {
    "f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q8_0": 7, "q5_0": 8, "q5_1": 9,
    "q2_k": 10, "q3_k_s": 11, "q3_k_m": 12, "q3_k": 12, "q3_k_l": 13,
    "q4_k_s": 14, "q4_k_m": 15, "q4_k": 15, "q5_k_s": 16, "q5_k_m": 17, "q5_k": 17,
    "q6_k": 18, "q2_k_s": 21, "iq4_nl": 25, "iq4_xs": 30, "bf16": 32,
    "tq1_0": 36, "tq2_0": 37, "mxfp4_moe": 38,
    # these need an importance matrix in llama-quantize; without one llama.cpp may refuse
    "iq2_xxs": 19, "iq2_xs": 20, "iq3_xs": 22, "iq3_xxs": 23, "iq1_s": 24, "iq3_s": 26,
    "iq3_m": 27, "iq2_s": 28, "iq2_m": 29, "iq1_m": 31,
}

GGML_LOG_LEVEL_WARN = 3


class QuantizeParams(ctypes.Structure):
    _fields_ = [
        ("nthread", ctypes.c_int32),
        ("ftype", ctypes.c_int),
        ("output_tensor_type", ctypes.c_int),
        ("token_embedding_type", ctypes.c_int),
        ("allow_requantize", ctypes.c_bool),
        ("quantize_output_tensor", ctypes.c_bool),
        ("only_copy", ctypes.c_bool),
        ("pure", ctypes.c_bool),
        ("keep_split", ctypes.c_bool),
        ("dry_run", ctypes.c_bool),
        ("imatrix", ctypes.c_void_p),
        ("kv_overrides", ctypes.c_void_p),
        ("tt_overrides", ctypes.c_void_p),
        ("prune_layers", ctypes.c_void_p),
        ("max_buf_size", ctypes.c_size_t),
    ]


assert ctypes.sizeof(QuantizeParams) == 64 and QuantizeParams.ftype.offset == 4 \
    and QuantizeParams.nthread.offset == 0 and QuantizeParams.imatrix.offset == 24


def find_lib(node_dir):
    """The folder with libllama*.so under a node_modules tree (NODE_DIR or NODE_DIR/node_modules)."""
    pats = ["node_modules/@node-llama-cpp/linux-x64/bins/*/libllama*.so",
            "@node-llama-cpp/linux-x64/bins/*/libllama*.so",
            "node_modules/@node-llama-cpp/*/bins/*/libllama*.so",
            "@node-llama-cpp/*/bins/*/libllama*.so",
            "node_modules/node-llama-cpp/llama/localBuilds/*/Release/libllama*.so"]
    for pat in pats:
        hits = sorted(glob.glob(os.path.join(node_dir, pat)))
        if hits:
            return os.path.dirname(os.path.abspath(hits[0]))
    return None


def die(msg, **extra):
    print(json.dumps({"ok": False, "error": msg, **extra}))
    print(f"llama_quantize: {msg}", file=sys.stderr)
    sys.exit(1)


def load_libs(libdir):
    """Load ggml-base, ggml and llama from libdir (RTLD_GLOBAL, in dependency order)."""
    def one(names):
        for pat in names:
            hits = sorted(glob.glob(os.path.join(libdir, pat)))
            if hits:
                return ctypes.CDLL(hits[0], mode=ctypes.RTLD_GLOBAL)
        die(f"none of {' '.join(names)} in {libdir} (--find-lib NODE_DIR finds the folder)")
    one(["libggml-base.so", "libggml-base.*so"])
    ggml = one(["libggml.so", "libggml.v*.so", "libggml.so.*"])
    llama = one(["libllama.so", "libllama.v*.so", "libllama.so.*"])
    return ggml, llama


def build_info(libdir):
    info = {}
    meta = os.path.join(libdir, "_nlcBuildMetadata.json")
    try:
        with open(meta) as f:
            info["release"] = json.load(f)["buildOptions"]["llamaCpp"]["release"]
    except (OSError, ValueError, KeyError):
        pass
    common = os.path.join(libdir, "libllama-common.so")
    if os.path.exists(common):
        try:
            lib = ctypes.CDLL(common, mode=ctypes.RTLD_GLOBAL)
            fn = getattr(lib, "_Z16llama_build_infov")  # const char * llama_build_info(void)
            fn.restype = ctypes.c_char_p
            info["build"] = fn().decode()
        except (OSError, AttributeError):
            pass
    return info


def main(argv):
    if argv[:1] == ["--find-lib"]:
        if len(argv) != 2:
            print("usage: llama_quantize.py --find-lib NODE_DIR", file=sys.stderr)
            return 2
        d = find_lib(argv[1])
        if not d:
            print(f"llama_quantize: no libllama*.so under {argv[1]} (run: npm ci --prefix tests/node)",
                  file=sys.stderr)
            return 1
        print(d)
        return 0
    if argv[:1] == ["--list-types"]:
        for k, v in FTYPES.items():
            print(f"{k} {v}")
        return 0
    threads, verbose, pure, pos = 0, False, False, []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--threads", "-t") and i + 1 < len(argv):
            threads = int(argv[i + 1]); i += 2; continue
        if a == "--verbose":
            verbose = True; i += 1; continue
        if a == "--pure":  # every tensor in the type, as llama-quantize --pure
            pure = True; i += 1; continue
        if a.startswith("-") and a != "-":
            print(f"llama_quantize: unknown option {a}", file=sys.stderr)
            return 2
        pos.append(a); i += 1
    if len(pos) != 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    libdir, inp, out, tname = pos
    ftype = int(tname) if tname.isdigit() else FTYPES.get(tname.lower())
    if ftype is None:
        print(f"llama_quantize: unknown type {tname} (--list-types)", file=sys.stderr)
        return 2
    if not os.path.isfile(inp):
        die(f"cannot read {inp}")

    ggml, llama = load_libs(libdir)
    info = build_info(libdir)

    # llama.cpp's log: keep warnings and errors (stderr), drop the per-tensor progress unless --verbose.
    LOGCB = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
    errors = []

    def log_cb(level, text, _ud):
        s = text.decode("utf-8", "replace") if text else ""
        if level >= GGML_LOG_LEVEL_WARN and level != 5:
            errors.append(s.strip())
        if verbose or (level >= GGML_LOG_LEVEL_WARN and level != 5):
            sys.stderr.write(s)
    cb = LOGCB(log_cb)
    llama.llama_log_set.argtypes = [LOGCB, ctypes.c_void_p]
    llama.llama_log_set.restype = None
    llama.llama_log_set(cb, None)

    llama.llama_backend_init.restype = None
    llama.llama_backend_init()
    # node-llama-cpp's ggml is built with dynamically loaded backends: register the CPU one.
    if hasattr(ggml, "ggml_backend_load_all_from_path"):
        ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
        ggml.ggml_backend_load_all_from_path.restype = None
        ggml.ggml_backend_load_all_from_path(os.path.abspath(libdir).encode())

    llama.llama_model_quantize_default_params.restype = QuantizeParams
    llama.llama_model_quantize_default_params.argtypes = []
    p = llama.llama_model_quantize_default_params()
    # Layout check: the defaults of the llama.cpp this struct mirrors.
    if not (p.nthread == 0 and p.ftype == 7 and p.output_tensor_type == p.token_embedding_type
            and 30 <= p.output_tensor_type <= 100 and not p.allow_requantize
            and p.quantize_output_tensor and not p.only_copy and not p.pure and not p.keep_split
            and not p.dry_run and not p.imatrix and not p.kv_overrides and not p.tt_overrides
            and not p.prune_layers and p.max_buf_size > 0):
        die("llama_model_quantize_params defaults do not match the mirrored layout: "
            "this libllama is not the version bench/llama_quantize.py was written for",
            defaults={f[0]: getattr(p, f[0]) for f in QuantizeParams._fields_})

    llama.llama_ftype_name.restype = ctypes.c_char_p
    llama.llama_ftype_name.argtypes = [ctypes.c_int]
    fname = llama.llama_ftype_name(ftype).decode()
    if fname.startswith("unknown") or fname == "":
        die(f"llama.cpp does not know llama_ftype {ftype}")

    p.ftype = ftype
    p.nthread = threads
    p.pure = pure
    llama.llama_model_quantize.restype = ctypes.c_uint32
    llama.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(QuantizeParams)]
    t0 = time.perf_counter()
    rc = llama.llama_model_quantize(inp.encode(), out.encode(), ctypes.byref(p))
    seconds = time.perf_counter() - t0
    res = {"seconds": round(seconds, 6), "ok": rc == 0, "type": tname.lower(), "ftype": ftype,
           "ftype_name": fname, "threads": threads, "pure": pure, "in_bytes": os.path.getsize(inp),
           "out_bytes": os.path.getsize(out) if rc == 0 and os.path.exists(out) else None,
           "llama_cpp": info}
    if rc != 0:
        res["error"] = " | ".join(e for e in errors if e) or f"llama_model_quantize returned {rc}"
        print(json.dumps(res))
        if not errors:  # llama.cpp's own error lines already went to stderr
            print(f"llama_quantize: {res['error']}", file=sys.stderr)
        return 1
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
