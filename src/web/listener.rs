//! Serving connections with hyper's HTTP/1.1 directly: axum::serve offers neither a
//! header-read timeout nor a connection cap, and a client that never finishes its headers
//! would otherwise hold a socket (and a file descriptor) for as long as it likes.
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// File descriptors kept back from the connection cap: database, log, templates, sockets to
/// upstream providers.
const RESERVED_FDS: u64 = 256;

/// What every connection is held to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to receive a request's headers; also the idle time of a keep-alive connection.
    pub header_read: Duration,
    /// The same for connections accepted while more than three quarters of the cap is in use.
    pub header_read_when_busy: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight.
    pub drain: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets requests in flight
/// finish (at most `limits.drain`). Handlers see the peer as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(());
    let settings = ConnectionSettings::new(&limits);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // At the cap, stop accepting: new connections wait in the kernel's backlog instead of
        // each costing a descriptor and a task.
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let builder = settings.for_free_slots(permits.available_permits());
        spawn_connection(stream, remote, &router, builder, permit, stop_rx.clone());
    }
    drop(listener);
    let _ = stop_tx.send(());
    drain(&permits, &limits).await;
    Ok(())
}

/// The HTTP/1.1 settings a connection is served with: relaxed, or busy when few slots are free.
struct ConnectionSettings {
    relaxed: http1::Builder,
    busy: http1::Builder,
    busy_below: usize,
}

impl ConnectionSettings {
    fn new(limits: &Limits) -> Self {
        Self {
            relaxed: http1_builder(limits.header_read),
            busy: http1_builder(limits.header_read_when_busy),
            // Below a quarter of the cap free, slots must turn over fast: a flood of dribbling
            // connections then holds each slot briefly, and a health probe waiting in the backlog
            // gets one soon.
            busy_below: limits.max_connections / 4,
        }
    }

    /// The settings for a connection accepted while `free` slots are left.
    fn for_free_slots(&self, free: usize) -> &http1::Builder {
        if free < self.busy_below {
            &self.busy
        } else {
            &self.relaxed
        }
    }
}

fn http1_builder(header_read: Duration) -> http1::Builder {
    let mut b = http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(header_read)
        .keep_alive(true);
    b
}

/// Serves one accepted connection on a task of its own, which holds `permit` until the
/// connection ends; a message on `stop` shuts the connection down gracefully.
fn spawn_connection(
    stream: TcpStream,
    remote: SocketAddr,
    router: &Router,
    builder: &http1::Builder,
    permit: OwnedSemaphorePermit,
    mut stop: watch::Receiver<()>,
) {
    let router = router.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        router.clone().oneshot(req)
    });
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::spawn(async move {
        let _permit = permit;
        let mut conn = std::pin::pin!(conn);
        let finished = tokio::select! {
            r = conn.as_mut() => r,
            _ = stop.changed() => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        if let Err(e) = finished {
            tracing::debug!(%remote, error = %e, "connection ended with an error");
        }
    });
}

/// Waits for the connections still open to finish (each gives its permit back), at most
/// `limits.drain`.
async fn drain(permits: &Semaphore, limits: &Limits) {
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.drain, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(drain = ?limits.drain, "connections still open at shutdown were dropped");
    }
}

/// Per-connection failures (the peer gave up) are normal; anything else (descriptors ran
/// out, say) is logged and retried after a pause instead of spinning.
async fn accept_failed(e: &io::Error) {
    use io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// The connection cap that fits the open-file limit: `configured`, lowered (with a warning)
/// when the soft limit leaves fewer descriptors than that after [`RESERVED_FDS`].
pub fn fit_to_open_files(configured: usize, soft_limit: Option<u64>) -> usize {
    let Some(soft) = soft_limit else {
        return configured;
    };
    let room = usize::try_from(soft.saturating_sub(RESERVED_FDS))
        .unwrap_or(usize::MAX)
        .max(1);
    if configured > room {
        tracing::warn!(
            configured,
            open_file_limit = soft,
            using = room,
            "server.max_connections exceeds what the open-file limit allows; lowered"
        );
        return room;
    }
    configured
}

/// Raises the soft open-file limit (RLIMIT_NOFILE) to the hard limit; returns (before, after).
#[cfg(unix)]
pub fn raise_open_file_limit() -> io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the rlimit we own and reads nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let before = lim.rlim_cur;
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit only reads the rlimit we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok((before, lim.rlim_max))
}

/// The current soft open-file limit, when the platform has one.
#[cfg(unix)]
pub fn open_file_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: as in raise_open_file_limit.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0).then_some(lim.rlim_cur)
}

/// Without RLIMIT_NOFILE there is nothing to raise.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> io::Result<(u64, u64)> {
    Ok((0, 0))
}

/// Without RLIMIT_NOFILE there is no limit to fit.
#[cfg(not(unix))]
pub fn open_file_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_leaves_room_for_other_descriptors() {
        assert_eq!(fit_to_open_files(4096, Some(1_048_576)), 4096);
        assert_eq!(fit_to_open_files(4096, Some(1024)), 1024 - 256);
        assert_eq!(fit_to_open_files(4096, Some(100)), 1);
        assert_eq!(fit_to_open_files(4096, None), 4096);
    }

    #[test]
    fn connections_get_the_busy_settings_below_a_quarter_of_the_cap_free() {
        let limits = Limits {
            header_read: Duration::from_secs(10),
            header_read_when_busy: Duration::from_secs(1),
            max_connections: 8,
            drain: Duration::from_secs(5),
        };
        let settings = ConnectionSettings::new(&limits);
        assert!(std::ptr::eq(settings.for_free_slots(0), &settings.busy));
        assert!(std::ptr::eq(settings.for_free_slots(1), &settings.busy));
        assert!(std::ptr::eq(settings.for_free_slots(2), &settings.relaxed));
        assert!(std::ptr::eq(settings.for_free_slots(8), &settings.relaxed));
    }

    #[tokio::test]
    async fn handlers_see_the_peer_address_and_shutdown_lets_a_request_in_flight_finish() {
        use axum::routing::get;

        let router = Router::new()
            .route(
                "/peer",
                get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "finished"
                }),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let limits = Limits {
            header_read: Duration::from_secs(1),
            header_read_when_busy: Duration::from_secs(1),
            max_connections: 8,
            drain: Duration::from_secs(5),
        };
        let server = tokio::spawn(serve(listener, router, limits, async {
            let _ = stop_rx.await;
        }));

        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let me = stream.local_addr().unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(b"GET /peer HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            answer.ends_with(&me.to_string()),
            "the handler saw {answer}, the peer is {me}"
        );

        let slow = tokio::spawn(reqwest::get(format!("http://{addr}/slow")));
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop_tx.send(()).unwrap();
        let res = slow.await.unwrap().expect("the request in flight is answered");
        assert_eq!(res.text().await.unwrap(), "finished");
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("serve returns after shutdown")
            .unwrap()
            .unwrap();
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "the listener is closed"
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_soft_open_file_limit_is_raised_to_the_hard_limit() {
        let (_, hard) = raise_open_file_limit().expect("getrlimit/setrlimit");
        assert_eq!(open_file_limit(), Some(hard));
    }
}
