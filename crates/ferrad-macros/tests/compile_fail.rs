//! Errors at the right span with a message that says what is allowed (trybuild).
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p ferrad-macros --test compile_fail`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
