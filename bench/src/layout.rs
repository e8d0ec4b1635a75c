//! How much of `bench/symbol-order.txt` the measured binary's code layout follows.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

/// One line for the report: how many of the order's names the binary defines (names that
/// are gone after a dependency update leave their code where the linker puts it).
pub fn coverage(bin: &Path) -> String {
    let order_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/symbol-order.txt");
    let Ok(order) = std::fs::read_to_string(&order_path) else {
        return "Code layout: no bench/symbol-order.txt, the linker's default order.".to_owned();
    };
    let defined = match Command::new("nm").arg("--defined-only").arg(bin).output() {
        Ok(out) if out.status.success() => out.stdout,
        _ => return "Code layout: `nm` could not read the binary's symbols.".to_owned(),
    };
    let defined = String::from_utf8_lossy(&defined);
    let names: HashSet<&str> = defined.lines().filter_map(|l| l.split_whitespace().nth(2)).collect();
    let wanted: Vec<&str> = order.lines().filter(|l| !l.is_empty()).collect();
    let found = wanted.iter().filter(|n| names.contains(*n)).count();
    format!(
        "Code layout: {found} of the {} functions named in bench/symbol-order.txt are in the measured binary \
         (build.rs hands that order to the linker; `bench/symbol-order` regenerates it).",
        wanted.len()
    )
}
