#!/usr/bin/env bash
# Builds Weir's base image as a tarball in `docker save` format, with no Docker engine and no
# registry: a jlink'd Java runtime, the shared libraries it and libweir.so need (taken from this
# machine's Debian packages, found with ldd), BusyBox for the health check, and a non-root user.
# Jib builds every component's image on top of it (from.image = tar://...).
#
#   build-base.sh JAVA_HOME LIBWEIR OUTPUT_DIR VERSION
set -euo pipefail
java_home=$1 libweir=$2 out=$3 version=$4
work="$out/base"
rootfs="$work/rootfs"
rm -rf "$work" && mkdir -p "$rootfs"

# The Java modules Spring Boot, Kafka's clients, gRPC and the agent use. java.desktop stays for
# java.beans (Spring reads bean properties through it); its native AWT libraries are removed below.
modules=java.base,java.desktop,java.instrument,java.logging,java.management,java.naming,java.net.http
modules+=,java.security.jgss,java.sql,java.xml,java.scripting,jdk.crypto.ec,jdk.unsupported,jdk.httpserver
modules+=,jdk.management,jdk.zipfs,jdk.naming.dns,jdk.jfr
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress=2 --output "$rootfs/opt/java"
# Graphics, sound and fonts are never used by a headless service: drop them and what they link.
rm -f "$rootfs"/opt/java/lib/{libawt,libawt_xawt,libawt_headless,libfontmanager,libjavajpeg,libjawt,libjsound,liblcms,libmlib_image,libsplashscreen}.so
# Debian's JDK links its CA store from ca-certificates-java; an image needs the file itself.
mkdir -p "$rootfs/opt/java/lib/security"
cp -L /etc/ssl/certs/java/cacerts "$rootfs/opt/java/lib/security/cacerts"

# Every shared library the runtime and libweir.so load, with the dynamic loader, copied by the
# path the loader searches (symlinks resolved to files).
copy_lib() {
  local path=$1
  mkdir -p "$rootfs$(dirname "$path")"
  cp -L "$path" "$rootfs$path"
}
# ip (iproute2) and nsenter (util-linux): the agent makes veth pairs and routes in standalone CNI mode.
node_tools=(/usr/sbin/ip /usr/bin/nsenter)
{
  ldd "$rootfs/opt/java/bin/java" "$rootfs"/opt/java/lib/*.so "$rootfs/opt/java/lib/server/libjvm.so" "$libweir" \
    "${node_tools[@]}"
} 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/lib/ {print $1}' | sort -u | while read -r lib; do
  copy_lib "$lib"
done
unresolved=$(ldd "$rootfs"/opt/java/lib/*.so "$libweir" 2>/dev/null | grep 'not found' | grep -v -E 'lib(jvm|jli|java|net|nio|verify|zip|jimage)\.so' || true)
[ -z "$unresolved" ] || { echo "build-base: unresolved libraries: $unresolved" >&2; exit 1; }

mkdir -p "$rootfs/usr/sbin" "$rootfs/usr/bin"
for tool in "${node_tools[@]}"; do cp -L "$tool" "$rootfs$tool"; done

# BusyBox (static) gives the health check its wget and a shell for debugging with kubectl exec.
mkdir -p "$rootfs/bin" "$rootfs/usr/local/bin"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in sh wget cat ls; do ln -s busybox "$rootfs/bin/$applet"; done
cat > "$rootfs/usr/local/bin/weir-healthcheck" <<'SCRIPT'
#!/bin/sh
# Container health: the component's health URL (set per image) answers 2xx. The health check's
# own timeout bounds it (BusyBox 1.35's static wget crashes with -T).
exec /bin/wget -q -O /dev/null "${WEIR_HEALTH_URL:?WEIR_HEALTH_URL is not set}"
SCRIPT
chmod 755 "$rootfs/usr/local/bin/weir-healthcheck"

mkdir -p "$rootfs/etc" "$rootfs/tmp" "$rootfs/home/weir"
chmod 1777 "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nweir:x:65532:65532:weir:/home/weir:/bin/sh\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nweir:x:65532:\n' > "$rootfs/etc/group"
printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
cp /usr/share/zoneinfo/UTC "$rootfs/etc/localtime" 2>/dev/null || true

# One layer, reproducible: sorted names, fixed times and owners (home belongs to weir).
tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$work/layer.tar" \
  --exclude=./home/weir .
tar --sort=name --mtime=@1 --owner=65532 --group=65532 --numeric-owner -C "$rootfs" -rf "$work/layer.tar" ./home/weir
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)

cat > "$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:01Z",
 "config":{"Env":["PATH=/opt/java/bin:/usr/local/bin:/usr/sbin:/usr/bin:/bin","JAVA_HOME=/opt/java","LANG=C.UTF-8"],
  "User":"65532:65532","WorkingDir":"/home/weir",
  "Healthcheck":{"Test":["CMD","/usr/local/bin/weir-healthcheck"],"Interval":10000000000,
   "Timeout":5000000000,"StartPeriod":60000000000,"Retries":3},
  "Labels":{"org.opencontainers.image.title":"weir-base","org.opencontainers.image.version":"$version"}},
 "rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},
 "history":[{"created":"1970-01-01T00:00:01Z","created_by":"images/base/build-base.sh"}]}
JSON
printf '[{"Config":"config.json","RepoTags":["weir-base:%s"],"Layers":["layer.tar"]}]\n' "$version" \
  > "$work/manifest.json"
tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner -C "$work" \
  -cf "$out/weir-base.tar" manifest.json config.json layer.tar
echo "build-base: $(du -h "$out/weir-base.tar" | cut -f1) $out/weir-base.tar"
