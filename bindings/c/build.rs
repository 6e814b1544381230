//! Gives the shared library a SONAME carrying the major version, so hosts
//! link against `libagentsession.so.<major>` and a later incompatible
//! release can be installed beside it.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "android" || target_os.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libagentsession.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
