//! Link options of release builds of the `gatehouse` binary, both about resident memory:
//! - code laid out in the order of `bench/symbol-order.txt` (made by `bench/symbol-order`):
//!   the functions a start runs first, then those of the hot flows. Start-up then faults in
//!   about 5 MiB of code instead of pages spread over the whole 27 MiB `.text`. Names missing
//!   from the file (after a dependency update) only leave that code where the linker puts it;
//!   regenerate the file to get the layout back.
//! - relative relocations packed (DT_RELR, glibc ≥ 2.36): the loader reads 27 KiB of them
//!   at start instead of a 1.5 MiB `.rela.dyn`.

use std::path::Path;
use std::process::Command;

const ORDER: &str = "bench/symbol-order.txt";

fn main() {
    println!("cargo:rerun-if-changed={ORDER}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=GATEHOUSE_LINK_TUNING");
    if !release_linked_by_lld() {
        return;
    }
    if std::fs::metadata(ORDER).is_ok_and(|m| m.len() > 0) {
        let path = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join(ORDER);
        println!(
            "cargo:rustc-link-arg-bin=gatehouse=-Wl,--symbol-ordering-file={}",
            path.display()
        );
        println!("cargo:rustc-link-arg-bin=gatehouse=-Wl,--no-warn-symbol-ordering");
    }
    println!("cargo:rustc-link-arg-bin=gatehouse=-Wl,-z,pack-relative-relocs");
}

/// Only release builds for x86-64 Linux with glibc, where rustc links with its own lld
/// (Rust ≥ 1.90), the one linker here that takes `--symbol-ordering-file`;
/// `GATEHOUSE_LINK_TUNING=off` turns both off (another linker, an older glibc, or to measure
/// the default layout).
fn release_linked_by_lld() -> bool {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    var("PROFILE") == "release"
        && var("GATEHOUSE_LINK_TUNING") != "off"
        && var("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && rustc_links_with_lld(&var("RUSTC"))
}

/// Whether this rustc is 1.90 or later, the first to link x86-64 Linux with rust-lld.
fn rustc_links_with_lld(rustc: &str) -> bool {
    let Ok(out) = Command::new(if rustc.is_empty() { "rustc" } else { rustc })
        .arg("--version")
        .output()
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut numbers = text
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .split(['.', '-'])
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    (major, minor) >= (1, 90)
}
