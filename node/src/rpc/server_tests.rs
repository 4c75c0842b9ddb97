//! The RPC server's own runtime lets go of the app when the server stops: a
//! task of it that outlived the stop would close the database while the
//! process exits (RocksDB then aborts the node, turning a clean SIGTERM into
//! SIGABRT).

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_holds_no_handle_on_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(crate::app::tests::open_app(dir.path()));
    let mut config = Config::default();
    config.rpc.listen = "127.0.0.1:0".into();
    for round in 0..20 {
        let (server, addr) = start(app.clone(), &config, "test".into()).await.unwrap();
        // A connection the server is serving when it stops.
        let _open = tokio::net::TcpStream::connect(addr).await.unwrap();
        server.stop().await;
        assert_eq!(
            Arc::strong_count(&app),
            1,
            "round {round}: the stopped server's runtime still holds the app"
        );
    }
}
