//! `example-integrator run`: registers its webhook receiver, publishes a course, orders it for a parent,
//! and reports the child's attendance when the platform says the order is paid. It prints one JSON line per
//! step and per event received, and keeps running until stopped.

use anyhow::Result;
use clap::Parser;
use example_integrator::{Adapter, Client, Receiver, ReceiverOptions};
use serde_json::json;

mod load;

#[derive(Parser)]
#[command(about = "An example provider adapter to xiaowai's open API")]
enum Command {
    /// Run the example flow against a platform.
    Run(RunArgs),
    /// Only receive webhooks (for `xiaowai conformance`), printing each event.
    Receive(ReceiveArgs),
    /// The integration API under load (bench/integration.sh): prints a JSON report.
    Load(load::LoadArgs),
    /// Print the id of the first institution that authorised this integrator.
    Grants(ClientArgs),
}

#[derive(clap::Args)]
struct ClientArgs {
    #[arg(long)]
    platform: String,
    #[arg(long)]
    key_id: String,
    #[arg(long)]
    secret: String,
}

#[derive(clap::Args)]
struct ReceiveArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// A deliberately broken adapter: take webhooks without checking their signatures.
    #[arg(long)]
    no_verify: bool,
    /// Answer 503 to the first N deliveries, as during an outage.
    #[arg(long, default_value_t = 0)]
    fail_first: usize,
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    receive: ReceiveArgs,
    #[arg(long)]
    institution: String,
    #[arg(long)]
    parent_phone: String,
    #[arg(long)]
    child_id_card: String,
    #[arg(long, default_value = "示例教务系统·创意美术")]
    course_name: String,
}

fn say(line: serde_json::Value) {
    println!("{line}");
}

#[tokio::main]
async fn main() -> Result<()> {
    let (receive, run) = match Command::parse() {
        Command::Run(run) => (
            run.receive,
            Some((
                run.institution,
                run.parent_phone,
                run.child_id_card,
                run.course_name,
            )),
        ),
        Command::Receive(receive) => (receive, None),
        Command::Load(args) => return load::run(args).await,
        Command::Grants(c) => {
            let client = Client::new(&c.platform, &c.key_id, &c.secret);
            let (status, grants) = client
                .send(
                    reqwest::Method::GET,
                    "/api/v1/integration/grants",
                    None,
                    None,
                )
                .await?;
            let id = grants[0]["institution_id"].as_str();
            match id {
                Some(id) if status == 200 => println!("{id}"),
                _ => anyhow::bail!("no authorisation: {status} {grants}"),
            }
            return Ok(());
        }
    };
    let c = &receive.client;
    let client = Client::new(&c.platform, &c.key_id, &c.secret);
    let (_receiver, url, mut events) = Receiver::start(
        ReceiverOptions {
            key_id: c.key_id.clone(),
            secret: c.secret.clone(),
            verify_signatures: !receive.no_verify,
            fail_first: receive.fail_first,
        },
        &receive.listen,
    )
    .await?;
    say(json!({"step": "receiving", "url": url}));
    let mut order = None;
    if let Some((institution, phone, id_card, course_name)) = run {
        let adapter = Adapter {
            client: client.clone(),
            institution_id: institution,
        };
        adapter.register_webhook(&url).await?;
        say(json!({"step": "webhook_registered"}));
        let course_id = adapter.sync_course(&course_name).await?;
        say(json!({"step": "course_synced", "course_id": course_id}));
        let (order_id, order_no) = adapter
            .order_for_parent(&course_id, &phone, &id_card)
            .await?;
        say(json!({"step": "order_created", "order_id": order_id, "order_no": order_no}));
        order = Some((adapter, order_id));
    }
    while let Some(event) = events.recv().await {
        say(json!({"event": event}));
        // The roll is taken in the provider's own system; once the order is paid it is reported.
        if let Some((adapter, order_id)) = &order
            && event["type"] == "order.paid"
            && event["data"]["order"] == order_id.as_str()
        {
            match adapter
                .report_attendance(order_id, "示例教务系统点名记录")
                .await
            {
                Ok(lesson_no) => {
                    say(json!({"step": "attendance_reported", "lesson_no": lesson_no}))
                }
                Err(e) => say(json!({"step": "attendance_failed", "error": e.to_string()})),
            }
        }
    }
    Ok(())
}
