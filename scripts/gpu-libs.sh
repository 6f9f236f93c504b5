# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# scripts/gpu-libs.sh — sourced by gpu-check.sh and gpu-peer.sh on the GPU machine: where
# that machine keeps the CUDA libraries arca and llama-bench load but nothing carries
# (cuBLAS is 570 MB, NCCL more): the loader's cache, /usr/local/cuda, and the nvidia/*/lib
# folders of PyTorch's Python packages.

# cuda_lib_dir FILE: the first folder holding FILE (e.g. libcublas.so.13); 1 when none does
cuda_lib_dir() {
	local file=$1 d
	for d in $(ldconfig -p 2>/dev/null | awk -v f="$file" '$1 == f { print $NF }' |
			xargs -r -n1 dirname) /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
			$(python3 -c 'import glob, site
for p in site.getsitepackages() + [site.getusersitepackages()]:
    print(" ".join(glob.glob(p + "/nvidia/*/lib")))' 2>/dev/null); do
		if [ -e "$d/$file" ]; then
			echo "$d"
			return 0
		fi
	done
	echo "no $file on this machine" >&2
	return 1
}
