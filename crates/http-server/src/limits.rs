//! Limits on what one request may cost while it runs: the size of its body and the time to
//! read it (RL-3, RL-4), and the requests in progress, in all (RL-6) and per session (RL-7).
//! The limits on connections are in [`crate::serve`].

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use mcp_http_core::CountedPlace;
use mcp_http_proto::RequestId;
use tokio::sync::Semaphore;

use crate::rejection::Rejection;

/// The most permits a tokio semaphore holds.
pub(crate) fn permits(max: usize) -> usize {
    max.clamp(1, Semaphore::MAX_PERMITS)
}

/// Reads a whole body of at most `max` bytes within `timeout`. The timer is armed only for a
/// body that is not all there at once (most are), so a quick POST never touches it.
pub(crate) async fn read_body<B>(body: B, max: usize, timeout: Duration) -> Result<Bytes, Rejection>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    // A declared length over the limit is refused before a byte of the body is read.
    if body.size_hint().lower() > max as u64 {
        return Err(Rejection::PayloadTooLarge);
    }
    let mut collect = std::pin::pin!(Limited::new(body, max).collect());
    let collected = match futures::poll!(collect.as_mut()) {
        Poll::Ready(collected) => collected,
        // A body still coming (rare for a small request): its timer boxed, so that it does not
        // size the future of every request (PF-33).
        Poll::Pending => match Box::pin(tokio::time::timeout(timeout, collect)).await {
            Ok(collected) => collected,
            Err(_) => return Err(Rejection::BodyTimeout),
        },
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(Rejection::PayloadTooLarge)
        }
        Err(_) => Err(Rejection::BodyUnreadable),
    }
}

/// A request's place among its session's requests in progress (RL-7), or 429 when `max` are
/// taken. Its handler's context holds it (with the server-wide permit, RL-6) until the handler
/// is done, so a request whose client went away still counts while it runs (T-19).
pub(crate) fn session_place<C: mcp_http_core::Counts>(
    counter: &Arc<C>,
    max: usize,
    id: &RequestId,
) -> Result<CountedPlace, Rejection> {
    CountedPlace::take_in(counter, max).ok_or_else(|| Rejection::SessionBusy(id.clone()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_session_place_is_refused_with_429_when_all_are_taken() {
        let counter = Arc::new(AtomicUsize::new(0));
        let id = RequestId::Number(1);
        let first = session_place(&counter, 2, &id).unwrap();
        let _second = session_place(&counter, 2, &id).unwrap();
        assert!(matches!(
            session_place(&counter, 2, &id),
            Err(Rejection::SessionBusy(_))
        ));
        drop(first);
        assert_eq!(counter.load(Ordering::Acquire), 1);
        assert!(session_place(&counter, 2, &id).is_ok());
    }
}
