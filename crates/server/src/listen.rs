//! The accept loop of `serve`, plain or TLS, hardened against hostile or broken clients: a large
//! listen backlog; at most [`connection_limit`] connections at once (below the process's open-file
//! limit, so the request journal and state files can always be opened — further clients wait in the
//! backlog); a TLS handshake, the request headers and an idle keep-alive connection each have a time
//! limit, and a connection lives at most [`CONNECTION_LIFETIME`].

use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

/// Pending connections the kernel queues for us.
pub const BACKLOG: u32 = 4096;
/// Time for a TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for a request's headers to arrive — also how long an idle keep-alive connection is kept.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest a connection may live (a slow body included).
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(300);

/// Open files this process may have (the soft limit), from `/proc/self/limits`; `None` elsewhere.
fn open_file_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Connections served at once: the open-file limit less a reserve of 64 for files, between 16
/// and 4,096 (1,024 where the limit cannot be read).
pub fn connection_limit() -> usize {
    open_file_limit()
        .map_or(1024, |n| n.saturating_sub(64))
        .clamp(16, 4096) as usize
}

/// Bind `addr` with a large backlog.
pub async fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The limits, as set by default from the constants above.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections at once.
    pub connections: usize,
    /// TLS handshake time.
    pub handshake: Duration,
    /// Header (and keep-alive idle) time.
    pub header: Duration,
    /// Connection lifetime.
    pub lifetime: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connections: connection_limit(),
            handshake: HANDSHAKE_TIMEOUT,
            header: HEADER_TIMEOUT,
            lifetime: CONNECTION_LIFETIME,
        }
    }
}

/// Serve `app` on `listener` (over TLS with `tls`) until the process ends.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
) -> std::io::Result<()> {
    serve_with(listener, tls, app, Limits::default()).await
}

/// [`serve`] with other limits (tests use short ones).
pub async fn serve_with(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: Limits,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.connections.max(1)));
    loop {
        // Wait for a free slot before accepting: the next clients wait in the backlog.
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (tls, app) = (tls.clone(), app.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let served = async {
                match tls {
                    Some(acceptor) => {
                        match tokio::time::timeout(limits.handshake, acceptor.accept(tcp)).await {
                            Ok(Ok(t)) => http(t, app, limits.header).await,
                            Ok(Err(e)) => tracing::debug!("{peer}: TLS handshake failed: {e}"),
                            Err(_) => tracing::debug!("{peer}: TLS handshake timed out"),
                        }
                    }
                    None => http(tcp, app, limits.header).await,
                }
            };
            if tokio::time::timeout(limits.lifetime, served).await.is_err() {
                tracing::debug!("{peer}: connection closed after {:?}", limits.lifetime);
            }
        });
    }
}

async fn http<S>(io: S, app: Router, header: Duration)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper_util::service::TowerToHyperService::new(app);
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header)
        .keep_alive(true)
        .serve_connection(hyper_util::rt::TokioIo::new(io), svc)
        .await
    {
        tracing::debug!("connection: {e}");
    }
}
