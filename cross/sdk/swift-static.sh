# SDK provider "swift-static" for cross/build (sourced): the official Swift static Linux
# SDK (musl, aarch64-swift-linux-musl) for the host's own swift.org toolchain, installed by
# `swift sdk install` from a pinned URL and SHA-256. For runners that can reach
# download.swift.org (or have the bundle already: CROSS_STATIC_SDK_BUNDLE=path/to.tar.gz).
# Needs neither root nor a chroot: SwiftPM runs on the host.
#
# An SDK only works with the compiler of exactly its release (Swift modules are only
# readable by the compiler that wrote them), so the pin is chosen by the host's version
# and an unknown version is refused rather than guessed.
#
# Contract with cross/build: see cross/sdk/debian.sh.

TARGET=aarch64-swift-linux-musl
SDK_ID=$TARGET      # the variant's triple names it among the installed bundles

# static_sdk_pin VERSION: prints "URL SHA256" of the static Linux SDK built for that
# release, as swift.org publishes them.
static_sdk_pin() {
    local base=https://download.swift.org
    case $1 in
    6.2.3) echo "$base/swift-6.2.3-release/static-sdk/swift-6.2.3-RELEASE/swift-6.2.3-RELEASE_static-linux-0.0.1.artifactbundle.tar.gz f30ec724d824ef43b5546e02ca06a8682dafab4b26a99fbb0e858c347e507a2c" ;;
    6.3.1) echo "$base/swift-6.3.1-release/static-sdk/swift-6.3.1-RELEASE/swift-6.3.1-RELEASE_static-linux-0.1.0.artifactbundle.tar.gz fac05271c1f7d060bd203240ce5251d5ca902d30ac899f553765dbb3a88b97ad" ;;
    *) return 1 ;;
    esac
}

sdk_prepare() {
    local swift version pin url sum bundle got
    swift=$(command -v swift) || die "no swift on PATH: the swift-static provider uses the host's swift.org toolchain"
    SWIFT_VERSION=$("$swift" --version 2>&1 | grep -m1 'Swift version')
    version=$(sed -nE 's/.*Swift version ([0-9]+\.[0-9]+(\.[0-9]+)?).*/\1/p' <<<"$SWIFT_VERSION")
    [[ $version == *.*.* ]] || version=$version.0
    pin=$(static_sdk_pin "$version") ||
        die "no static Linux SDK pinned for Swift $version ($SWIFT_VERSION); add its URL and checksum from swift.org to static_sdk_pin in cross/sdk/swift-static.sh"
    read -r url sum <<<"$pin"
    for tool in file readelf; do
        command -v "$tool" >/dev/null || die "$tool is needed for the ELF checks (Debian: apt-get install file binutils)"
    done
    command -v "$(dirname "$swift")/llvm-objcopy" >/dev/null ||
        die "no llvm-objcopy next to $swift: it strips the aarch64 binaries"

    # One SDK directory per pin, so a toolchain upgrade never builds with the old bundle.
    SDKS=$CACHE_ROOT/swift-static-$version-${sum:0:12}
    if [ ! -e "$SDKS/sdk.ok" ]; then
        rm -rf "$SDKS"
        mkdir -p "$SDKS"
        if [ -n "${CROSS_STATIC_SDK_BUNDLE:-}" ]; then
            bundle=$(realpath "$CROSS_STATIC_SDK_BUNDLE")
            [ -f "$bundle" ] || die "CROSS_STATIC_SDK_BUNDLE=$CROSS_STATIC_SDK_BUNDLE is not a file"
            got=$(sha256sum "$bundle" | cut -d' ' -f1)
            [ "$got" = "$sum" ] ||
                { rm -rf "$SDKS"; die "$bundle has SHA-256 $got, not the pinned $sum for Swift $version ($url)"; }
            log "installing the static Linux SDK for Swift $version from $bundle"
            "$swift" sdk install --swift-sdks-path "$SDKS" "$bundle" >&2 ||
                { rm -rf "$SDKS"; die "swift sdk install $bundle failed"; }
        else
            log "installing the static Linux SDK for Swift $version from $url"
            # swift sdk install checks the download against --checksum before unpacking.
            "$swift" sdk install --swift-sdks-path "$SDKS" "$url" --checksum "$sum" >&2 ||
                { rm -rf "$SDKS"; die "could not install $url (offline? then set CROSS_STATIC_SDK_BUNDLE to a downloaded copy, or use CROSS_SDK=debian)"; }
        fi
        "$swift" sdk list --swift-sdks-path "$SDKS" 2>/dev/null | grep -q . ||
            { rm -rf "$SDKS"; die "swift sdk install left no SDK in $SDKS"; }
        touch "$SDKS/sdk.ok"
    fi
    # Older pins' SDKs are ~1.4 GB each.
    local old
    for old in "$CACHE_ROOT"/swift-static-*/; do
        [ -d "$old" ] || continue
        [ "$(realpath "$old")" = "$SDKS" ] && continue
        log "removing stale cache $old"
        rm -rf "$old"
    done
    SDK_ORIGIN="$(basename "$url" .artifactbundle.tar.gz)"
}

# sdk_run SCRIPT [ARGS...]: bash SCRIPT in the package directory, on the host, with the
# toolchain's directory (swift, llvm-objcopy) first on PATH.
sdk_run() {
    local script=$1
    shift
    (cd "$PACKAGE_DIR" && PATH="$(dirname "$(command -v swift)"):$PATH" \
        /bin/bash -euo pipefail -c "$script" sdk-run "$@")
}
