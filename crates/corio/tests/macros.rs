//! `#[corio::test]` and `#[corio::main]` as users write them. Misuse is
//! checked by the `compile_fail` doctests in the crate root.

#[corio::test]
async fn plain_test_runs_on_a_runtime() {
    let v = corio::spawn(async { 40 + 2 }).await.unwrap();
    assert_eq!(v, 42);
}

#[corio::test(worker_threads = 2)]
async fn with_worker_threads() {
    let handles: Vec<_> = (0..8).map(|i| corio::spawn(async move { i })).collect();
    let sum: i32 = corio::gather(handles)
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();
    assert_eq!(sum, 28);
}

#[corio::test]
async fn returning_a_result() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "12".parse()?;
    assert_eq!(n, 12);
    Ok(())
}

#[corio::test]
#[should_panic(expected = "expected failure")]
async fn panics_propagate() {
    panic!("expected failure");
}

#[corio::test(crate = "corio", debug = true)]
async fn explicit_crate_path_and_debug() {
    assert_eq!(corio::spawn(async { 1 }).await.unwrap(), 1);
}

mod nested {
    fn helper() -> u8 {
        5
    }

    #[corio::test]
    async fn sees_items_of_its_module() {
        assert_eq!(helper(), 5);
    }
}

/// `#[corio::main]` on a function with another name works too and returns
/// the body's value.
#[corio::main(worker_threads = 1)]
async fn answer() -> u32 {
    corio::spawn(async { 42 }).await.unwrap()
}

#[test]
fn main_macro_returns_the_body_value() {
    assert_eq!(answer(), 42);
}
