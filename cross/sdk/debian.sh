# SDK provider "debian" for cross/build (sourced): Debian sid's Swift (`swiftlang`) in an
# amd64 sid chroot, and a Swift SDK bundle for aarch64-unknown-linux-gnu made from the
# arm64 packages of the same version. Works offline except for the Debian mirror, which is
# why CI uses it.
#
#   1. A Debian sid amd64 chroot with `swiftlang` (mmdebstrap). The amd64 toolchain needs
#      sid's glibc, so it cannot run on the host directly.
#   2. A Swift SDK bundle: an arm64 sysroot (mmdebstrap --variant=extract of the C/C++
#      runtime dev packages) plus the swift, swift_static and clang resource directories
#      taken from the *same version* of the arm64 `swiftlang` package (its static stdlib
#      and Foundation are what we link).
#   3. SwiftPM runs inside the chroot with the package bind-mounted at its own path.
#
# Both are cached under CACHE_ROOT in directories named by hashes of every input below plus
# the code of the functions that build them, so changing any of them builds a fresh cache.
# Knob: CROSS_MIRROR (default: the host's Debian mirror from apt).
#
# Contract with cross/build: sdk_prepare sets TARGET, SDKS (the --swift-sdks-path
# directory), SDK_ID (the --swift-sdk name), SWIFT_VERSION and SDK_ORIGIN, and defines
# sdk_run SCRIPT [ARGS...] (bash SCRIPT in the package directory where the toolchain is).

# ---------------------------------------------------------------------------------------
# Inputs (all part of the cache key)
# ---------------------------------------------------------------------------------------
SUITE=sid
SWIFT_EXPECTED=6.2.3            # fail early if sid moved on: the bundle is tied to it
# Chroot: the toolchain plus what SwiftPM and the checks call (git for package resolution,
# jq to read `swift package describe`, file/binutils for the ELF checks). swiftlang brings gcc and
# binutils; libc6-dev is only a Recommends of gcc, but the manifest (and any macro or
# plugin) is compiled and linked for the host.
CHROOT_PACKAGES="swiftlang libc6-dev git jq file binutils ca-certificates"
# Sysroot: headers and static archives the link needs. crt*.o, libgcc and libstdc++ come
# from GCC's packages here (the Swift runtime and Foundation are C++ and link -lstdc++).
# GCC 14 is the version this was first validated with; sid's default gcc has moved on,
# but 14 is still in sid. zlib1g-dev because async-http-client and the WebSocket
# compression link -lz.
GCC_MAJOR=14
SYSROOT_PACKAGES="libc6-dev libstdc++-$GCC_MAJOR-dev libgcc-$GCC_MAJOR-dev linux-libc-dev zlib1g-dev"
TARGET=aarch64-unknown-linux-gnu
SDK_ID=debian-$SUITE-swift-$SWIFT_EXPECTED-$TARGET
# Where the Debian package puts the toolchain (not /usr/bin/swift, to avoid clashing with
# OpenStack's `swift`).
TOOLCHAIN=/usr/libexec/swift
CACHE_FORMAT=1                  # bump to force a rebuild for reasons not captured above

# sid's Release file can be past its Valid-Until on a mirror that lags; we only need it
# to be signed, not fresh.
APT_OPT='Acquire::Check-Valid-Until "false"'

# ---------------------------------------------------------------------------------------
# Running things inside the chroot
# ---------------------------------------------------------------------------------------
# Bind mounts live in a private mount namespace (unshare), so they vanish when the command
# ends, even if it is killed; nothing is left mounted on the host.
#   - /proc, /dev: the Swift driver and git need them.
#   - the package directory, at the same path, so paths in diagnostics and .build match.
#   - the host's system gitconfig and every local directory its url.*.insteadOf rules
#     point to: that is how package URLs resolve offline (a local git mirror).
GIT_SYSTEM_CONFIG=$(git config --system --list --show-origin 2>/dev/null | awk -F'\t' 'NR == 1 { sub(/^file:/, "", $1); print $1 }' || true)
GIT_MIRROR_DIRS=$(git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null |
    awk '{ sub(/^url\./, "", $1); sub(/\.insteadof$/, "", $1); sub(/^file:\/\//, "", $1); print $1 }' |
    while read -r dir; do [[ $dir == /* && -d $dir ]] && realpath "$dir"; done | sort -u || true)
export GIT_SYSTEM_CONFIG GIT_MIRROR_DIRS PACKAGE_DIR

mount_and_chroot() { # runs in the private namespace: $1 = chroot root, $2 = script, rest = args
    local root=$1 script=$2 dir
    shift 2
    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    mkdir -p "$root$PACKAGE_DIR"
    mount --bind "$PACKAGE_DIR" "$root$PACKAGE_DIR"
    if [ -n "$GIT_SYSTEM_CONFIG" ] && [ -f "$GIT_SYSTEM_CONFIG" ]; then
        touch "$root/etc/gitconfig"
        mount --bind "$GIT_SYSTEM_CONFIG" "$root/etc/gitconfig"
    fi
    # The SDK bundle, when the cache lives outside the package (CROSS_CACHE_DIR).
    if [ -n "${SDK_MOUNT:-}" ] && [ -d "$SDK_MOUNT" ] && [[ $SDK_MOUNT != "$PACKAGE_DIR"/* ]]; then
        mkdir -p "$root$SDK_MOUNT"
        mount --bind "$SDK_MOUNT" "$root$SDK_MOUNT"
        mount -o remount,bind,ro "$root$SDK_MOUNT"
    fi
    for dir in $GIT_MIRROR_DIRS; do
        mkdir -p "$root$dir"
        mount --bind "$dir" "$root$dir"
        mount -o remount,bind,ro "$root$dir"
    done
    exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
        PATH="$TOOLCHAIN/bin:/usr/sbin:/usr/bin:/sbin:/bin" PACKAGE_DIR="$PACKAGE_DIR" \
        /bin/bash -euo pipefail -c "$script" in-chroot "$@"
}

in_chroot() { # in_chroot ROOT SCRIPT [ARGS...]: bash -c SCRIPT inside ROOT
    unshare --mount --propagation private -- /bin/bash -euo pipefail -c \
        "TOOLCHAIN=$TOOLCHAIN; $(declare -f mount_and_chroot); mount_and_chroot \"\$@\"" \
        unshare "$@"
}

# ---------------------------------------------------------------------------------------
# Cache: the chroot and the SDK bundle
# ---------------------------------------------------------------------------------------
make_chroot() { # $1 = destination directory
    # variant apt = Essential + apt: the smallest base apt can install swiftlang into.
    # arm64 is a foreign architecture so the same apt can fetch swiftlang:arm64 below.
    # Lists are kept so that download works without another update.
    nice -n "$NICE" mmdebstrap --variant=apt --architectures=amd64,arm64 \
        --aptopt="$APT_OPT" --skip=cleanup/apt/lists \
        --include="${CHROOT_PACKAGES// /,}" \
        "$SUITE" "$1" "$MIRROR"
}

make_sdk() { # $1 = chroot, $2 = destination .artifactbundle
    local chroot=$1 bundle=$2 version deb
    local variant=$bundle/$TARGET sysroot=$bundle/$TARGET/sysroot
    mkdir -p "$variant"

    # The target stdlib must come from exactly the compiler's package version: Swift
    # modules are only readable by the compiler that wrote them.
    version=$(chroot "$chroot" dpkg-query -Wf '${Version}' swiftlang)
    # (With the chroot's own, kept, apt lists: if sid has since dropped this version, the
    # download fails and the chroot has to be rebuilt too.)
    in_chroot "$chroot" 'mkdir -p /var/tmp/arm64 && cd /var/tmp/arm64 && rm -f ./*.deb &&
        apt-get -q download "swiftlang:arm64=$1"' "$version" ||
        die "cannot download swiftlang:arm64=$version; remove ${chroot%/*} to rebuild against current sid"
    deb=$(echo "$chroot"/var/tmp/arm64/swiftlang_*_arm64.deb)
    [ -f "$deb" ] || die "swiftlang:arm64 $version was not downloaded"

    # extract = unpack the packages (and their dependencies) without running anything;
    # enough for a sysroot and needs no arm64 emulation.
    nice -n "$NICE" mmdebstrap --variant=extract --architectures=arm64 --aptopt="$APT_OPT" \
        --include="${SYSROOT_PACKAGES// /,}" "$SUITE" "$sysroot" "$MIRROR"

    # Only the target resource directories of the arm64 toolchain: swift (module maps,
    # shared-stdlib modules), swift_static (static stdlib/Foundation archives, modules,
    # static-executable-args.lnk) and clang (builtin headers, compiler-rt for aarch64).
    # They go to the sysroot's usr/lib, not Debian's $TOOLCHAIN/lib: the driver derives
    # some paths (swiftrt.o of a static executable) from <sysroot>/usr/lib/swift_static
    # whatever swiftStaticResourcesPath says.
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$sysroot" \
        ".$TOOLCHAIN/lib/swift" ".$TOOLCHAIN/lib/swift_static" ".$TOOLCHAIN/lib/clang"
    mv "$sysroot$TOOLCHAIN/lib/swift" "$sysroot$TOOLCHAIN/lib/swift_static" \
        "$sysroot$TOOLCHAIN/lib/clang" "$sysroot/usr/lib/"
    rm -rf "${sysroot:?}$TOOLCHAIN" "$deb"
    echo "$version" >"$bundle/swiftlang.version"

    # Swift SDK bundle (SE-0387). Paths are relative to the variant directory, so the
    # bundle still works wherever the cache is mounted.
    cat >"$bundle/info.json" <<EOF
{
  "schemaVersion": "1.0",
  "artifacts": {
    "$SDK_ID": {
      "type": "swiftSDK",
      "version": "$version",
      "variants": [ { "path": "$TARGET" } ]
    }
  }
}
EOF
    cat >"$variant/swift-sdk.json" <<EOF
{
  "schemaVersion": "4.0",
  "targetTriples": {
    "$TARGET": {
      "sdkRootPath": "sysroot",
      "swiftResourcesPath": "sysroot/usr/lib/swift",
      "swiftStaticResourcesPath": "sysroot/usr/lib/swift_static",
      "toolsetPaths": [ "toolset.json" ]
    }
  }
}
EOF
    # lld: the chroot's binutils ld only knows x86_64; the toolchain's ld.lld (found next
    # to its clang) links any target. (A toolset "linker.path" would be taken relative to
    # the bundle, so the driver flag is the portable way.)
    cat >"$variant/toolset.json" <<EOF
{
  "schemaVersion": "1.0",
  "swiftCompiler": { "extraCLIOptions": [ "-use-ld=lld" ] }
}
EOF
}


sdk_prepare() {
    [ "$(id -u)" = 0 ] || die "the debian SDK provider needs root (mmdebstrap, chroot and bind mounts)"
    [ "$(uname -m)" = x86_64 ] || die "the debian SDK provider's chroot is amd64; run on an x86_64 host"
    # The Debian mirror: the one the host's apt already uses (the only one reachable offline).
    MIRROR=${CROSS_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(LABEL)' 2>/dev/null |
        awk '$2 == "Debian" { print $1; exit }')}
    [ -n "$MIRROR" ] || die "cannot find the host's Debian mirror; set CROSS_MIRROR"
    command -v mmdebstrap >/dev/null || {
        log "installing mmdebstrap"
        apt-get install -y -q mmdebstrap >&2
    }

    # Two keys, the SDK's nested in the chroot's (the SDK is made with the chroot's apt and
    # must match its compiler): each hashes its inputs plus the code that turns them into
    # the cache, so an SDK change does not rebuild the chroot.
    local chroot_key sdk_key cache bundle got t old
    chroot_key=$( {
        echo "format=$CACHE_FORMAT suite=$SUITE mirror=$MIRROR swift=$SWIFT_EXPECTED"
        echo "chroot=$CHROOT_PACKAGES apt=$APT_OPT toolchain=$TOOLCHAIN"
        declare -f make_chroot
    } | sha256sum | cut -c1-12)
    sdk_key=$( {
        echo "target=$TARGET id=$SDK_ID sysroot=$SYSROOT_PACKAGES"
        declare -f make_sdk
    } | sha256sum | cut -c1-12)
    cache=$CACHE_ROOT/chroot-$chroot_key       # chroot/, chroot.ok, sdk-<key>/
    CHROOT=$cache/chroot
    SDKS=$cache/sdk-$sdk_key                   # the --swift-sdks-path directory, sdk.ok
    bundle=$SDKS/$SDK_ID.artifactbundle
    SDK_MOUNT=$SDKS
    export SDK_MOUNT

    if [ ! -e "$cache/chroot.ok" ]; then
        log "creating sid chroot ($chroot_key), packages: $CHROOT_PACKAGES"
        rm -rf "$cache"
        mkdir -p "$cache"
        t=$SECONDS
        make_chroot "$CHROOT"
        # (needs /proc: the toolchain finds its libraries through $ORIGIN = /proc/self/exe)
        got=$(in_chroot "$CHROOT" 'swift --version 2>&1' | head -n1)
        [[ $got == *"Swift version $SWIFT_EXPECTED "* ]] ||
            die "sid's swiftlang is '$got', not $SWIFT_EXPECTED: update SWIFT_EXPECTED and retest"
        touch "$cache/chroot.ok"
        log "chroot ready in $((SECONDS - t)) s: $got"
    fi
    if [ ! -e "$SDKS/sdk.ok" ]; then
        log "creating the $TARGET SDK bundle ($sdk_key), sysroot packages: $SYSROOT_PACKAGES"
        rm -rf "$SDKS"
        t=$SECONDS
        make_sdk "$CHROOT" "$bundle"
        touch "$SDKS/sdk.ok"
        log "SDK bundle ready in $((SECONDS - t)) s: $bundle"
    fi
    # Drop caches made from other inputs: a chroot is ~3.5 GB, an SDK ~1 GB.
    for old in "$CACHE_ROOT"/chroot-*/ "$cache"/sdk-*/; do
        [ -d "$old" ] || continue
        case $(realpath "$old") in "$cache" | "$SDKS") continue ;; esac
        log "removing stale cache $old"
        rm -rf "$old"
    done
    SWIFT_VERSION=$(in_chroot "$CHROOT" 'swift --version 2>&1' | head -n1)
    SDK_ORIGIN="swiftlang $(cat "$bundle/swiftlang.version")"
}

# sdk_run SCRIPT [ARGS...]: bash SCRIPT in the package directory, inside the chroot.
sdk_run() {
    local script=$1
    shift
    in_chroot "$CHROOT" "cd \"\$PACKAGE_DIR\"; $script" "$@"
}
