//! `xiaowai conformance`: the published scenario suite a technology provider runs to certify its adapter
//! (docs/conformance.md). It signs in as the integrator at the platform (the sandbox: `xiaowai serve --demo`),
//! has the platform send the adapter a properly signed and a forged webhook, and reads what the platform
//! has recorded of the adapter's use of the API. Each requirement passes or fails on its own.

use anyhow::{Context, Result};
use app::signing::{canonical_request, sign};
use ledger::{Crypto, SmSuite};
use serde_json::{Value, json};

/// One requirement's outcome.
pub struct Outcome {
    pub id: &'static str,
    pub title: &'static str,
    pub passed: bool,
    pub detail: String,
}

struct Integrator {
    base: String,
    key_id: String,
    secret: String,
    http: reqwest::Client,
}

impl Integrator {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value)> {
        let bytes = body
            .map(serde_json::to_vec)
            .transpose()?
            .unwrap_or_default();
        let ts = chrono::Utc::now().timestamp_millis();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let crypto: &dyn Crypto = &SmSuite;
        let canonical = canonical_request(crypto, method.as_str(), path, &bytes, ts, &nonce);
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("x-xiaowai-key", &self.key_id)
            .header("x-xiaowai-timestamp", ts.to_string())
            .header("x-xiaowai-nonce", nonce)
            .header(
                "x-xiaowai-signature",
                sign(crypto, self.secret.as_bytes(), &canonical),
            )
            .body(bytes)
            .send()
            .await
            .with_context(|| format!("reaching {}", self.base))?;
        let status = response.status().as_u16();
        let value = response.json().await.unwrap_or(Value::Null);
        Ok((status, value))
    }
}

fn count_of(activity: &Value, action: &str) -> i64 {
    activity["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["action"] == action)
        .and_then(|a| a["count"].as_i64())
        .unwrap_or(0)
}

/// Runs every requirement against the platform at `base_url` as the integrator `key_id`.
pub async fn run(base_url: &str, key_id: &str, secret: &str) -> Result<Vec<Outcome>> {
    let me = Integrator {
        base: base_url.trim_end_matches('/').to_owned(),
        key_id: key_id.to_owned(),
        secret: secret.to_owned(),
        http: reqwest::Client::new(),
    };
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let mut out = Vec::new();
    let mut check = |id, title, passed, detail: String| {
        out.push(Outcome {
            id,
            title,
            passed,
            detail,
        })
    };

    let environment = me
        .http
        .get(format!("{}/healthz", me.base))
        .send()
        .await
        .ok()
        .and_then(|r| {
            r.headers()
                .get("x-xiaowai-environment")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("platform {} ({environment})", me.base);
    let (status, grants) = me
        .send(get.clone(), "/api/v1/integration/grants", None)
        .await?;
    check(
        "XW-INT-01",
        "签名请求 signed requests are accepted",
        status == 200,
        format!("GET /api/v1/integration/grants answered {status}"),
    );
    let live = grants.as_array().map_or(0, Vec::len);
    check(
        "XW-INT-02",
        "机构授权 authorised by at least one institution",
        live > 0,
        format!("{live} live authorisations"),
    );

    let (status, endpoint) = me
        .send(get.clone(), "/api/v1/integration/webhook", None)
        .await?;
    check(
        "XW-INT-03",
        "推送地址 a webhook URL is registered",
        status == 200,
        endpoint["url"]
            .as_str()
            .map_or_else(|| format!("none (answered {status})"), str::to_owned),
    );

    let (_, signed) = me
        .send(
            post.clone(),
            "/api/v1/integration/webhook/test",
            Some(&json!({})),
        )
        .await?;
    check(
        "XW-INT-04",
        "签名推送 a properly signed webhook is acknowledged with 2xx",
        signed["accepted"] == true,
        receiver_said(&signed),
    );
    let (_, forged) = me
        .send(
            post,
            "/api/v1/integration/webhook/test",
            Some(&json!({"forged": true})),
        )
        .await?;
    let refused = forged["status"]
        .as_u64()
        .is_some_and(|s| (400..500).contains(&s));
    check(
        "XW-INT-05",
        "验签 a webhook with a forged signature is refused with 4xx",
        refused,
        receiver_said(&forged),
    );

    let (_, activity) = me.send(get, "/api/v1/integration/activity", None).await?;
    for (id, title, action) in [
        (
            "XW-INT-06",
            "课程同步 a course was published through the API",
            "course.published",
        ),
        (
            "XW-INT-07",
            "代家长下单 an order was placed for a parent",
            "order.placed",
        ),
        (
            "XW-INT-08",
            "考勤上报 attendance was reported",
            "lesson.attended",
        ),
    ] {
        let n = count_of(&activity, action);
        check(id, title, n > 0, format!("{n} × {action}"));
    }
    let delivered = activity["deliveries_delivered"].as_i64().unwrap_or(0);
    let retrying = activity["deliveries_retrying"].as_i64().unwrap_or(0);
    let failed = activity["deliveries_failed"].as_i64().unwrap_or(0);
    check(
        "XW-INT-09",
        "事件接收 events were delivered and none is failing",
        delivered > 0 && retrying == 0 && failed == 0,
        format!("{delivered} delivered, {retrying} retrying, {failed} given up"),
    );
    Ok(out)
}

fn receiver_said(result: &Value) -> String {
    match (result["status"].as_u64(), result["error"].as_str()) {
        (Some(s), _) => format!("the receiver answered {s}"),
        (None, Some(e)) => format!("no answer: {e}"),
        (None, None) => format!("the platform answered {result}"),
    }
}
