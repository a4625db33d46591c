//! Generates the C header with cbindgen into `OUT_DIR/margin.h`; a test compares it with the
//! committed `include/margin.h`. `MARGIN_FFI_WRITE_HEADER=1` also writes the committed copy.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("margin.h");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=MARGIN_FFI_WRITE_HEADER");
    // A SONAME, so programs linked against libmargin_ffi.so.MAJOR survive compatible upgrades.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets it");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmargin_ffi.so.{major}");
    }
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets it");
    let part = |name: &str| std::env::var(name).expect("cargo sets it");
    let macros = format!(
        "\n#define MARGIN_VERSION \"{version}\"\n#define MARGIN_VERSION_MAJOR {}\n#define MARGIN_VERSION_MINOR {}\n#define MARGIN_VERSION_PATCH {}\n",
        part("CARGO_PKG_VERSION_MAJOR"),
        part("CARGO_PKG_VERSION_MINOR"),
        part("CARGO_PKG_VERSION_PATCH"),
    );
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .with_after_include(macros)
        .generate()
        .expect("cbindgen could not generate the header");
    bindings.write_to_file(&out);
    if std::env::var_os("MARGIN_FFI_WRITE_HEADER").is_some() {
        bindings.write_to_file(crate_dir.join("../include/margin.h"));
    }
}
