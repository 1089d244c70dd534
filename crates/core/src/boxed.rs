//! A future boxed where it is made, for the request paths of the crates above (PF-80, PF-74,
//! PF-97).

use std::pin::Pin;

/// The future `make` makes, boxed where it lies: the box is allocated first and the future made
/// by a call that is not inlined, so LLVM writes it straight into the box as the call's result,
/// where `Box::pin(make())` builds all of it on the stack and copies it in. A future's state is
/// mostly room for the states it has not reached yet: the copy reads that room, never written,
/// and the stack slot it was built in, on every call (PF-97).
pub fn in_place<F, M>(make: M) -> Pin<Box<F>>
where
    M: FnOnce() -> F,
{
    Box::into_pin(Box::write(Box::new_uninit(), made_by(make)))
}

/// `make()`, by a call of its own: [`in_place`]'s place for the result is the box.
#[inline(never)]
fn made_by<F, M: FnOnce() -> F>(make: M) -> F {
    make()
}

#[cfg(test)]
mod tests {
    use super::in_place;

    /// PF-97: a future boxed in place is the future `Box::pin` boxed: the same size in its box,
    /// and the same answer.
    #[tokio::test]
    async fn a_future_boxed_in_place_is_the_future_boxed_by_pin() {
        let state = [7u8; 512];
        let make = || async move {
            tokio::task::yield_now().await;
            state.iter().map(|b| u32::from(*b)).sum::<u32>()
        };
        let boxed = in_place(make);
        let pinned = Box::pin(make());
        assert_eq!(
            std::mem::size_of_val(&*boxed),
            std::mem::size_of_val(&*pinned)
        );
        assert_eq!(boxed.await, pinned.await);
    }
}
