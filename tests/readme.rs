//! The README's console examples, run and compared with what they print:
//! every `$ secrun ...` block in a ```console fence is a test case
//! (`[..]` stands for a varying part of a line, `...` for lines left out,
//! `? N` for the exit code). A README that drifts from the program fails
//! here.
#![allow(clippy::expect_used)]

#[test]
fn readme_examples_print_what_the_readme_shows() {
    trycmd::TestCases::new()
        .register_bin("secrun", std::path::Path::new(env!("CARGO_BIN_EXE_secrun")))
        // The examples' output must not depend on who runs them.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .case("README.md");
}

/// The README's two commands at the top: the first is the console example
/// above run through cargo (so that one's output is the first command's
/// output), and the second is exactly what CI runs.
#[test]
fn the_two_commands_at_the_top_are_the_tested_ones() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let first = readme
        .lines()
        .find_map(|l| l.strip_prefix("cargo run -- "))
        .expect("a `cargo run -- ...` line in the README");
    assert!(
        readme.contains(&format!("\n$ secrun {first}\n")),
        "the README shows no output for its first command: `$ secrun {first}`"
    );
    let ci = std::fs::read_to_string(".ci/run").expect(".ci/run");
    assert!(
        readme.contains("\nscripts/test\n"),
        "the README names no test command"
    );
    assert!(
        ci.lines().any(|l| l.trim() == "exec scripts/test"),
        ".ci/run does not run the README's test command"
    );
}
