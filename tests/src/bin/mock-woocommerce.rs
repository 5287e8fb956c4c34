//! A mock WooCommerce shop on loopback, for the demo and for manual tests.

use clap::Parser;
use patchbay_tests::woocommerce::{MockShop, ShopConfig};

#[derive(Parser)]
#[command(about = "Serve a mock WooCommerce REST API v3 on 127.0.0.1")]
struct Args {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Number of orders.
    #[arg(long, default_value_t = 250)]
    orders: u32,
    /// Number of products.
    #[arg(long, default_value_t = 40)]
    products: u32,
    /// The consumer key it accepts.
    #[arg(long, default_value = "ck_demo")]
    consumer_key: String,
    /// The consumer secret it accepts.
    #[arg(long, default_value = "cs_demo")]
    consumer_secret: String,
    /// Also write the shop's URL to this file once listening.
    #[arg(long)]
    url_file: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = ShopConfig {
        orders: args.orders,
        products: args.products,
        consumer_key: args.consumer_key,
        consumer_secret: args.consumer_secret,
        ..ShopConfig::default()
    };
    let shop = MockShop::start(config, args.port).await?;
    if let Some(path) = &args.url_file {
        std::fs::write(path, shop.url())?;
    }
    println!("mock WooCommerce listening on {} ({} orders)", shop.url(), args.orders);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
