//! Waiting for several uploads at once.
//!
//! Written out rather than taken from `futures-util`, whose `try_join_all` brings a task set
//! several times the size of this for the handful of files a form has.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::future::{poll_fn, Future};
use core::task::Poll;

/// Runs `futures` concurrently until all succeeded, answering their outputs in order, or until
/// one failed, answering its error. The futures still running are then dropped, which cancels
/// them.
pub async fn try_join_all<T, E, F>(futures: Vec<F>) -> Result<Vec<T>, E>
where
    F: Future<Output = Result<T, E>>,
{
    let mut running: Vec<_> = futures.into_iter().map(|future| Some(Box::pin(future))).collect();
    let mut outputs: Vec<Option<T>> = running.iter().map(|_| None).collect();
    poll_fn(|context| {
        for (slot, output) in running.iter_mut().zip(&mut outputs) {
            let Some(future) = slot else { continue };
            let Poll::Ready(result) = future.as_mut().poll(context) else {
                continue;
            };
            // A finished future must not be polled again.
            *slot = None;
            match result {
                Ok(value) => *output = Some(value),
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
        if running.iter().any(Option::is_some) {
            return Poll::Pending;
        }
        Poll::Ready(Ok(outputs.iter_mut().filter_map(Option::take).collect()))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::pin::pin;
    use std::task::{Context, Waker};

    /// Polls `future` once, as an executor would.
    fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
        pin!(future).poll(&mut Context::from_waker(Waker::noop()))
    }

    /// Ready on its second poll, so joins have something to wait for.
    async fn later<T>(value: T) -> T {
        let mut polled = false;
        poll_fn(|context| {
            if polled {
                return Poll::Ready(());
            }
            polled = true;
            context.waker().wake_by_ref();
            Poll::Pending
        })
        .await;
        value
    }

    #[test]
    fn outputs_come_in_the_order_of_the_futures() {
        let futures = vec![later(Ok::<_, ()>(1)), later(Ok(2)), later(Ok(3))];
        let mut join = pin!(try_join_all(futures));
        let mut context = Context::from_waker(Waker::noop());
        assert_eq!(join.as_mut().poll(&mut context), Poll::Pending);
        assert_eq!(join.as_mut().poll(&mut context), Poll::Ready(Ok(vec![1, 2, 3])));
    }

    #[test]
    fn the_first_error_ends_the_join_and_drops_the_rest() {
        let dropped = Cell::new(0);
        struct CountDrop<'a>(&'a Cell<u32>);
        impl Drop for CountDrop<'_> {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let future = |result: Result<u32, &'static str>, ready_now: bool| {
            let guard = CountDrop(&dropped);
            async move {
                let _guard = guard;
                if !ready_now {
                    later(()).await;
                    std::future::pending::<()>().await;
                }
                result
            }
        };
        let join = try_join_all(vec![future(Ok(1), false), future(Err("refused"), true)]);
        assert_eq!(poll_once(join), Poll::Ready(Err("refused")));
        assert_eq!(dropped.get(), 2);
    }

    #[test]
    fn nothing_to_join_is_done_at_once() {
        assert_eq!(
            poll_once(try_join_all(Vec::<std::future::Ready<Result<(), ()>>>::new())),
            Poll::Ready(Ok(vec![]))
        );
    }
}
