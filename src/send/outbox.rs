//! The outbox: each draft journaled in `state.sqlite` before the first byte goes out, and
//! each of its deliveries recorded as the server answered. A delivery is `planned` when
//! journaled, `sent` only once the server accepted it, `queued` after a temporary failure
//! (a 4xx, a dropped connection: `send --flush` tries again) and `failed` after a refusal
//! (a 5xx, with its enhanced status code). A delivery `sent` or `failed` is never tried
//! again, so running the same draft twice, or `--flush`, sends nothing twice that a server
//! accepted. (A crash between the server's acceptance and the commit of `sent` leaves it
//! `planned`, and the next run sends it again: the one window SMTP leaves open.)

use std::time::SystemTime;

use crate::record::Draft;
use crate::store::Store;
use crate::store::outbox::OutboxDelivery;

use super::smtp::Outcome;
use super::{Error, Planned};

/// The statuses after which a delivery is never tried again.
pub const FINAL: [&str; 2] = ["sent", "failed"];

fn seconds(now: SystemTime) -> i64 {
    now.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Journals a planned draft and its deliveries not yet final; returns every delivery of the
/// draft as journaled.
pub fn journal(
    store: &mut Store,
    planned: &Planned,
    now: SystemTime,
) -> Result<Vec<OutboxDelivery>, Error> {
    let known = store.db.outbox_deliveries(&planned.id)?;
    let line = serde_json::to_string(&planned.draft).map_err(|e| Error::BadDraft(e.to_string()))?;
    let batch = store.db.batch()?;
    batch.put_outbox_draft(&planned.id, &line, seconds(now))?;
    for delivery in super::deliveries(planned, "planned") {
        let done = known
            .iter()
            .any(|k| k.recipient == delivery.recipient && FINAL.contains(&k.status.as_str()));
        if done {
            continue;
        }
        batch.put_outbox_delivery(&OutboxDelivery {
            draft: planned.id.clone(),
            recipient: delivery.recipient,
            channel: delivery.channel.unwrap_or_default(),
            status: "planned".into(),
            message_id: delivery.message_id,
            code: None,
            reason: None,
            updated: seconds(now),
        })?;
    }
    batch.commit()?;
    Ok(store.db.outbox_deliveries(&planned.id)?)
}

/// Records what the server said of each recipient.
pub fn record(
    store: &mut Store,
    journaled: &[OutboxDelivery],
    outcomes: &[(String, Outcome)],
    now: SystemTime,
) -> Result<(), Error> {
    let batch = store.db.batch()?;
    for (recipient, outcome) in outcomes {
        let Some(delivery) = journaled.iter().find(|d| d.recipient == *recipient) else {
            continue;
        };
        let (status, code, reason) = match outcome {
            Outcome::Accepted => ("sent", None, None),
            Outcome::Temporary { code, text } => ("queued", Some(code.clone()), Some(text.clone())),
            Outcome::Refused { code, text } => ("failed", Some(code.clone()), Some(text.clone())),
        };
        batch.put_outbox_delivery(&OutboxDelivery {
            status: status.into(),
            code,
            reason,
            updated: seconds(now),
            ..delivery.clone()
        })?;
    }
    batch.commit()?;
    Ok(())
}

/// The drafts with a delivery still to make (`planned` or `queued`), oldest first: what
/// `send --flush` runs again.
pub fn pending(store: &Store) -> Result<Vec<Draft>, Error> {
    let mut ids = store.db.outbox_drafts_with("queued")?;
    for id in store.db.outbox_drafts_with("planned")? {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let mut drafts = Vec::new();
    for id in ids {
        if let Some(line) = store.db.outbox_draft(&id)? {
            drafts.push(serde_json::from_str(&line).map_err(|e| Error::BadDraft(e.to_string()))?);
        }
    }
    Ok(drafts)
}
