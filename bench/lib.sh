# SPDX-License-Identifier: Apache-2.0
# bench/lib.sh — what the download benchmarks share (pull_vs_aria2c.sh, serve_vs_nginx.sh):
# a model of random bytes, and an nginx configuration that runs on loopback without root.
# Source it after `set -euo pipefail`.

# make_random_model DIR LARGE_FILES LARGE_MIB SMALL_FILES: LARGE_FILES .safetensors files of
# LARGE_MIB MiB of random bytes, and SMALL_FILES small ones (200 B to 60 KB) in DIR/small.
make_random_model() {
	local dir=$1 large_files=$2 large_mib=$3 small_files=$4
	echo "making the model: $large_files x $large_mib MiB + $small_files small files..."
	mkdir -p "$dir/small"
	for i in $(seq 1 "$large_files"); do
		head -c $((large_mib * 1024 * 1024)) /dev/urandom > "$dir/model-0000$i-of-0000$large_files.safetensors"
	done
	python3 - "$dir/small" "$small_files" <<'PY'
import os, random, sys
rng = random.Random(7)
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "file-%03d.json" % i), "wb") as f:
        f.write(os.urandom(rng.randint(200, 60000)))
PY
}

# write_nginx_conf WORK PORT WORKERS LOCATION: WORK/nginx.conf serving LOCATION (an nginx
# location block) on 127.0.0.1:PORT with sendfile, pid file and temp folders under WORK.
write_nginx_conf() {
	mkdir -p "$1/nginx-tmp"
	cat > "$1/nginx.conf" <<EOF2
worker_processes $3;
pid $1/nginx.pid;
error_log $1/nginx-error.log;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 10000;
	client_body_temp_path $1/nginx-tmp;
	proxy_temp_path $1/nginx-tmp;
	fastcgi_temp_path $1/nginx-tmp;
	uwsgi_temp_path $1/nginx-tmp;
	scgi_temp_path $1/nginx-tmp;
	server {
		listen 127.0.0.1:$2;
		$4
	}
}
EOF2
}
