//! Lists every file under `signatures/malicious/` for `include!`: the embedded database is
//! the repository's data, read at compile time.

use std::path::{Path, PathBuf};

fn main() {
    // the manifest directory of this build, read when the script runs: `env!` would bake in
    // the directory the script was first compiled in, and a build of another checkout sharing
    // the target directory embedded that one's records, or none once it was deleted
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("../../signatures/malicious");
    println!("cargo::rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no records under {}: the embedded database would be empty",
        root.display()
    );
    let mut out = String::from("&[\n");
    for f in &files {
        println!("cargo::rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&root).unwrap_or(f);
        out.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            rel.display().to_string(),
            f.canonicalize()
                .unwrap_or_else(|_| f.clone())
                .display()
                .to_string()
        ));
    }
    out.push(']');
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("embedded.rs");
    std::fs::write(dest, out).expect("write embedded.rs");
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            println!("cargo::rerun-if-changed={}", path.display());
            walk(&path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
}
