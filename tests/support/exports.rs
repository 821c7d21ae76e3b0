//! Platform exports written by the tests, in each platform's documented layout, with made-up
//! people at example.org: laid out as a directory or zipped.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The files of an export, by path relative to its root.
#[derive(Clone, Default)]
pub struct Export {
    pub files: Vec<(String, Vec<u8>)>,
}

impl Export {
    pub fn with(mut self, name: &str, bytes: impl AsRef<[u8]>) -> Export {
        self.files.retain(|(n, _)| n != name);
        self.files.push((name.to_string(), bytes.as_ref().to_vec()));
        self
    }

    /// Writes the files under `dir`.
    pub fn write_dir(&self, dir: &Path) -> PathBuf {
        for (name, bytes) in &self.files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("dirs");
            std::fs::write(&path, bytes).expect("file written");
        }
        dir.to_path_buf()
    }

    /// Writes the files into the zip `path`, deflated.
    pub fn write_zip(&self, path: &Path) -> PathBuf {
        self.write_zip_with(path, zip::CompressionMethod::Deflated)
    }

    /// Writes the files into the zip `path`, compressed by `method`.
    pub fn write_zip_with(&self, path: &Path, method: zip::CompressionMethod) -> PathBuf {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("dirs");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path).expect("zip created"));
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, bytes) in &self.files {
            zip.start_file(name.as_str(), options)
                .expect("entry started");
            zip.write_all(bytes).expect("entry written");
        }
        zip.finish().expect("zip finished");
        path.to_path_buf()
    }
}

/// A Twitter archive: Alice (`@AliceExample`, id 1001) and Bob (id 2002) one to one, with a
/// link, a photo and a reaction; a group with Carol (id 3003), whom a tweet mentions as
/// `@CarolSings`.
pub fn twitter() -> Export {
    Export::default()
        .with(
            "data/tweets.js",
            r#"window.YTD.tweets.part0 = [
  { "tweet" : { "id_str" : "8001", "full_text" : "with @CarolSings today",
      "entities" : { "user_mentions" : [ { "name" : "Carol", "screen_name" : "CarolSings",
          "indices" : [ "5", "16" ], "id_str" : "3003", "id" : "3003" } ], "hashtags" : [ ] },
      "created_at" : "Wed Mar 01 08:00:00 +0000 2023" } }
]"#,
        )
        .with(
            "data/account.js",
            r#"window.YTD.account.part0 = [
  { "account" : { "email" : "alice@example.org", "createdVia" : "web",
      "username" : "AliceExample", "accountId" : "1001",
      "createdAt" : "2010-01-01T00:00:00.000Z", "accountDisplayName" : "Alice" } }
]"#,
        )
        .with(
            "data/direct-messages.js",
            r#"window.YTD.direct_messages.part0 = [
  { "dmConversation" : { "conversationId" : "1001-2002", "messages" : [
      { "messageCreate" : { "recipientId" : "1001",
          "reactions" : [ { "senderId" : "1001", "reactionKey" : "like",
                            "eventId" : "7001", "createdAt" : "2023-03-01T10:05:00.000Z" } ],
          "urls" : [ { "url" : "https://t.co/abc", "expanded" : "https://example.org/page",
                       "display" : "example.org/page" } ],
          "text" : "look https://t.co/abc", "mediaUrls" : [ "https://ton.twitter.com/dm/5001/1/photo.jpg" ],
          "senderId" : "2002", "id" : "5001", "createdAt" : "2023-03-01T10:00:00.000Z" } },
      { "messageCreate" : { "recipientId" : "2002", "reactions" : [ ], "urls" : [ ],
          "text" : "nice", "mediaUrls" : [ ], "senderId" : "1001", "id" : "5002",
          "createdAt" : "2023-03-01T10:10:00.000Z" } }
  ] } }
]"#,
        )
        .with("data/direct_messages_media/5001-photo.jpg", b"JFIF!")
        .with(
            "data/direct-messages-group.js",
            r#"window.YTD.direct_messages_group.part0 = [
  { "dmConversation" : { "conversationId" : "900", "messages" : [
      { "joinConversation" : { "initiatingUserId" : "2002",
          "participantsSnapshot" : [ "1001", "2002", "3003" ], "createdAt" : "2023-03-02T09:00:00.000Z" } },
      { "messageCreate" : { "reactions" : [ ], "urls" : [ ], "text" : "hello all",
          "mediaUrls" : [ ], "senderId" : "3003", "id" : "6001", "createdAt" : "2023-03-02T09:01:00.000Z" } }
  ] } }
]"#,
        )
}

/// A Facebook export (JSON): Bob and Alice one to one, mis-encoded as Facebook does, with a
/// photo, a reaction and a share; a group of three in the newer layout.
pub fn facebook() -> Export {
    Export::default()
        .with(
            "messages/inbox/bobmartin_10/message_1.json",
            r#"{
  "participants": [ { "name": "Bob Martin" }, { "name": "Alice Example" } ],
  "messages": [
    { "sender_name": "Alice Example", "timestamp_ms": 1677664860000, "content": "Look",
      "share": { "link": "https://example.org/menu", "share_text": "Le menu" },
      "type": "Share", "is_geoblocked_for_viewer": false },
    { "sender_name": "Bob Martin", "timestamp_ms": 1677664800000,
      "content": "caf\u00c3\u00a9 ce soir ?",
      "photos": [ { "uri": "messages/inbox/bobmartin_10/photos/p1.jpg", "creation_timestamp": 1677664800 } ],
      "reactions": [ { "reaction": "\u00e2\u009d\u00a4", "actor": "Alice Example" } ],
      "type": "Generic", "is_geoblocked_for_viewer": false }
  ],
  "title": "Bob Martin", "is_still_participant": true, "thread_path": "inbox/bobmartin_10",
  "magic_words": []
}"#,
        )
        .with("messages/inbox/bobmartin_10/photos/p1.jpg", b"JFIF!!!")
        .with(
            "your_activity_across_facebook/messages/inbox/friends_20/message_1.json",
            r#"{
  "participants": [ { "name": "Bob Martin" }, { "name": "Carol D\u00c3\u00bcrr" }, { "name": "Alice Example" } ],
  "messages": [
    { "sender_name": "Carol D\u00c3\u00bcrr", "timestamp_ms": 1677751200000, "content": "Salut \u00c3\u00a0 tous",
      "type": "Generic" }
  ],
  "title": "Friends", "thread_path": "inbox/friends_20"
}"#,
        )
}

/// `signal-cli -o json receive` output of the account +33600000000: a message from Bob with
/// an attachment, a receipt, the user's reply quoting it (sent from another device) and a
/// group message from Carol.
pub fn signal() -> String {
    [
        r#"{"envelope":{"source":"+33611111111","sourceNumber":"+33611111111","sourceUuid":"uuid-bob","sourceName":"Bob","sourceDevice":1,"timestamp":1677664800000,"dataMessage":{"timestamp":1677664800000,"message":"salut","expiresInSeconds":0,"viewOnce":false,"attachments":[{"contentType":"image/jpeg","filename":"a.jpg","id":"att1","size":1234}]}},"account":"+33600000000"}"#,
        r#"{"envelope":{"source":"+33611111111","sourceNumber":"+33611111111","sourceUuid":"uuid-bob","sourceName":"Bob","sourceDevice":1,"timestamp":1677664801000,"receiptMessage":{"when":1677664801000,"isDelivery":true,"isRead":false,"timestamps":[1677664790000]}},"account":"+33600000000"}"#,
        r#"{"envelope":{"source":"+33600000000","sourceNumber":"+33600000000","sourceUuid":"uuid-me","sourceName":"Alice","sourceDevice":2,"timestamp":1677664900000,"syncMessage":{"sentMessage":{"destination":"+33611111111","destinationNumber":"+33611111111","destinationUuid":"uuid-bob","timestamp":1677664900000,"message":"oui !","expiresInSeconds":0,"viewOnce":false,"quote":{"id":1677664800000,"author":"+33611111111","authorNumber":"+33611111111","authorUuid":"uuid-bob","text":"salut","attachments":[]}}}},"account":"+33600000000"}"#,
        r#"{"envelope":{"source":"+33622222222","sourceNumber":"+33622222222","sourceUuid":"uuid-carol","sourceName":"Carol","sourceDevice":1,"timestamp":1677665000000,"dataMessage":{"timestamp":1677665000000,"message":"hello group","expiresInSeconds":0,"viewOnce":false,"groupInfo":{"groupId":"R3JvdXBJZA==","type":"DELIVER"}}},"account":"+33600000000"}"#,
    ]
    .join("\n")
        + "\n"
}

/// One room of an Element export: `@bob` and `@alice` at example.org, a reply and an image;
/// with an `m.room.encryption` state event when `encrypted`.
pub fn matrix_room(name: &str, room: &str, encrypted: bool) -> String {
    let encryption = if encrypted {
        format!(
            r#"{{"type":"m.room.encryption","state_key":"","sender":"@bob:example.org","content":{{"algorithm":"m.megolm.v1.aes-sha2"}},"origin_server_ts":1677664700000,"event_id":"${room}-enc","room_id":"!{room}:example.org"}},"#
        )
    } else {
        String::new()
    };
    format!(
        r#"{{
  "room_name": "{name}", "room_creator": "Bob", "topic": "", "export_date": "01/03/2023",
  "exported_by": "Alice",
  "messages": [
    {{"type":"m.room.create","state_key":"","sender":"@bob:example.org","content":{{"creator":"@bob:example.org"}},"origin_server_ts":1677664600000,"event_id":"${room}-create","room_id":"!{room}:example.org"}},
    {{"type":"m.room.member","state_key":"@bob:example.org","sender":"@bob:example.org","content":{{"membership":"join","displayname":"Bob"}},"origin_server_ts":1677664600001,"event_id":"${room}-m1","room_id":"!{room}:example.org"}},
    {{"type":"m.room.member","state_key":"@alice:example.org","sender":"@alice:example.org","content":{{"membership":"join","displayname":"Alice"}},"origin_server_ts":1677664600002,"event_id":"${room}-m2","room_id":"!{room}:example.org"}},
    {encryption}
    {{"type":"m.room.message","sender":"@bob:example.org","content":{{"msgtype":"m.text","body":"hello"}},"origin_server_ts":1677664800000,"event_id":"${room}-1","room_id":"!{room}:example.org"}},
    {{"type":"m.room.message","sender":"@alice:example.org","content":{{"msgtype":"m.text","body":"> <@bob:example.org> hello\n\nhi Bob","m.relates_to":{{"m.in_reply_to":{{"event_id":"${room}-1"}}}}}},"origin_server_ts":1677664860000,"event_id":"${room}-2","room_id":"!{room}:example.org"}},
    {{"type":"m.room.message","sender":"@bob:example.org","content":{{"msgtype":"m.image","body":"cat.png","info":{{"mimetype":"image/png","size":2048}}}},"origin_server_ts":1677664900000,"event_id":"${room}-3","room_id":"!{room}:example.org"}}
  ]
}}"#
    )
}

/// An Element export of two rooms, one encrypted.
pub fn matrix() -> Export {
    Export::default()
        .with("secret.json", matrix_room("Bob (encrypted)", "enc", true))
        .with("open.json", matrix_room("Open room", "open", false))
}

/// A Twitter archive of Alice (id 1001) holding `count` direct messages from Bob (id 2002),
/// ids 9000 on, one a minute: a later download of the same account holds more.
pub fn twitter_dms(count: usize) -> Export {
    let messages: Vec<String> = (0..count)
        .map(|i| {
            format!(
                r#"{{ "messageCreate" : {{ "recipientId" : "1001", "reactions" : [ ], "urls" : [ ],
          "text" : "message {i}", "mediaUrls" : [ ], "senderId" : "2002", "id" : "{}",
          "createdAt" : "2023-08-01T10:{:02}:00.000Z" }} }}"#,
                9000 + i,
                i % 60
            )
        })
        .collect();
    Export::default()
        .with(
            "data/account.js",
            r#"window.YTD.account.part0 = [
  { "account" : { "username" : "AliceExample", "accountId" : "1001", "accountDisplayName" : "Alice" } }
]"#,
        )
        .with(
            "data/direct-messages.js",
            format!(
                "window.YTD.direct_messages.part0 = [\n  {{ \"dmConversation\" : {{ \"conversationId\" : \"1001-2002\", \"messages\" : [\n      {}\n  ] }} }}\n]",
                messages.join(",\n      ")
            ),
        )
}

/// `count` messages from Bob to +33600000000 as signal-cli prints them, one a second.
pub fn signal_lines(count: usize) -> String {
    (0..count)
        .map(|i| {
            let at = 1_692_000_000_000_i64 + 1000 * i as i64;
            format!(
                r#"{{"envelope":{{"source":"+33611111111","sourceNumber":"+33611111111","sourceUuid":"uuid-bob","sourceName":"Bob","sourceDevice":1,"timestamp":{at},"dataMessage":{{"timestamp":{at},"message":"line {i}","expiresInSeconds":0,"viewOnce":false}}}},"account":"+33600000000"}}"#
            ) + "\n"
        })
        .collect()
}

/// signal-cli as `signal-cli jsonRpc` (or the daemon) runs today: each line a `receive`
/// notification of subscription 0, its envelope in `params.result`. Bob writes, then edits
/// his message; the user edits what they sent from another device (a sync transcript).
pub fn signal_json_rpc() -> String {
    let line = |result: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","method":"receive","params":{{"subscription":0,"result":{result}}}}}"#
        ) + "\n"
    };
    [
        line(
            r#"{"envelope":{"source":"+33611111111","sourceNumber":"+33611111111","sourceUuid":"uuid-bob","sourceName":"Bob","sourceDevice":1,"timestamp":1692000000000,"serverReceivedTimestamp":1692000000100,"serverDeliveredTimestamp":1692000000200,"dataMessage":{"timestamp":1692000000000,"message":"see you at 8","expiresInSeconds":0,"viewOnce":false}},"account":"+33600000000"}"#,
        ),
        line(
            r#"{"envelope":{"source":"+33611111111","sourceNumber":"+33611111111","sourceUuid":"uuid-bob","sourceName":"Bob","sourceDevice":1,"timestamp":1692000060000,"typingMessage":{"action":"STARTED","timestamp":1692000060000}},"account":"+33600000000"}"#,
        ),
        line(
            r#"{"envelope":{"source":"+33611111111","sourceNumber":"+33611111111","sourceUuid":"uuid-bob","sourceName":"Bob","sourceDevice":1,"timestamp":1692000120000,"editMessage":{"targetSentTimestamp":1692000000000,"dataMessage":{"timestamp":1692000120000,"message":"see you at 9","expiresInSeconds":0,"viewOnce":false}}},"account":"+33600000000"}"#,
        ),
        line(
            r#"{"envelope":{"source":"+33600000000","sourceNumber":"+33600000000","sourceUuid":"uuid-me","sourceName":"Alice","sourceDevice":2,"timestamp":1692000180000,"syncMessage":{"sentMessage":{"destination":"+33611111111","destinationNumber":"+33611111111","destinationUuid":"uuid-bob","timestamp":1692000180000,"message":"ok","expiresInSeconds":0,"viewOnce":false}}},"account":"+33600000000"}"#,
        ),
        line(
            r#"{"envelope":{"source":"+33600000000","sourceNumber":"+33600000000","sourceUuid":"uuid-me","sourceName":"Alice","sourceDevice":2,"timestamp":1692000240000,"syncMessage":{"sentMessage":{"destination":"+33611111111","destinationNumber":"+33611111111","destinationUuid":"uuid-bob","timestamp":1692000240000,"editMessage":{"targetSentTimestamp":1692000180000,"dataMessage":{"timestamp":1692000240000,"message":"ok, 9 it is","expiresInSeconds":0,"viewOnce":false}}}}},"account":"+33600000000"}"#,
        ),
    ]
    .concat()
}

/// Lines of an older signal-cli, without `account`: one whose envelope names its
/// destination, and one that names none.
pub fn signal_without_account() -> String {
    [
        r#"{"envelope":{"source":"+33611111111","sourceNumber":"+33611111111","sourceUuid":"uuid-bob","sourceName":"Bob","sourceDevice":1,"timestamp":1692000300000,"destinationNumber":"+33600000000","dataMessage":{"timestamp":1692000300000,"message":"to me","expiresInSeconds":0,"viewOnce":false}}}"#,
        r#"{"envelope":{"source":"+33611111111","sourceDevice":1,"timestamp":1692000360000,"dataMessage":{"timestamp":1692000360000,"message":"to whom?","expiresInSeconds":0,"viewOnce":false}}}"#,
    ]
    .join("\n")
        + "\n"
}

/// A Facebook conversation file of Bob and Alice holding one message of Bob's, `content`,
/// in the layout of 2019 to today (`participants` as objects, `thread_path`).
pub fn facebook_thread(thread: &str, content: &str) -> String {
    format!(
        r#"{{"participants": [{{"name": "Bob Martin"}}, {{"name": "Alice Example"}}],
  "messages": [{{"sender_name": "Bob Martin", "timestamp_ms": 1692000000000, "content": "{content}", "type": "Generic"}}],
  "title": "Bob Martin", "thread_path": "{thread}"}}"#
    )
}

/// A Facebook export in every layout the platform used: a message request and a filtered
/// thread (2022, under `your_activity_across_facebook/`), a conversation in the 2024 layout
/// (under `your_facebook_activity/`), one of an export before 2019 (`message.json`,
/// participants as plain names) and files under `messages/` that hold no conversation.
pub fn facebook_layouts() -> Export {
    Export::default()
        .with(
            "your_activity_across_facebook/messages/message_requests/carol_30/message_1.json",
            facebook_thread("message_requests/carol_30", "a request"),
        )
        .with(
            "your_activity_across_facebook/messages/filtered_threads/dan_40/message_1.json",
            facebook_thread("filtered_threads/dan_40", "filtered"),
        )
        .with(
            "your_facebook_activity/messages/inbox/bob_50/message_1.json",
            facebook_thread("inbox/bob_50", "in 2024"),
        )
        .with(
            "messages/inbox/bob_60/message.json",
            r#"{"participants": ["Bob Martin", "Alice Example"],
  "messages": [{"sender_name": "Bob Martin", "timestamp_ms": 1500000000000, "content": "in 2017", "type": "Generic"}],
  "title": "Bob Martin", "is_still_participant": true, "status": "Active", "thread_type": "Regular",
  "thread_path": "inbox/bob_60"}"#,
        )
        .with(
            "your_facebook_activity/messages/autofill_information.json",
            r#"{"autofill_information_v2": {}}"#,
        )
        .with(
            "your_facebook_activity/messages/ai_conversations/meta_70/message_1.json",
            facebook_thread("ai_conversations/meta_70", "not read"),
        )
}

/// An Element export zipped with its media, as Element writes it: `export.json` and the
/// files of media messages under `files/` and `images/`; the room holds an image with a
/// caption and a JSON file someone sent.
pub fn matrix_zip_with_media() -> Export {
    let room = r#"{
  "room_name": "Media", "room_creator": "Bob", "topic": "", "export_date": "20/08/2023",
  "exported_by": "Alice",
  "messages": [
    {"type":"m.room.message","sender":"@bob:example.org","content":{"msgtype":"m.image","body":"our cat, asleep","filename":"cat.png","info":{"mimetype":"image/png","size":2048}},"origin_server_ts":1692000000000,"event_id":"$media-1","room_id":"!media:example.org"},
    {"type":"m.room.message","sender":"@bob:example.org","content":{"msgtype":"m.file","body":"notes.json","filename":"notes.json","info":{"mimetype":"application/json","size":13}},"origin_server_ts":1692000060000,"event_id":"$media-2","room_id":"!media:example.org"},
    {"type":"m.room.message","sender":"@alice:example.org","content":{"msgtype":"m.image","body":"dog.png","info":{"mimetype":"image/png","size":99}},"origin_server_ts":1692000120000,"event_id":"$media-3","room_id":"!media:example.org"}
  ]
}"#;
    Export::default()
        .with("export.json", room)
        .with("images/cat-20-08-2023.png", b"PNG!")
        .with("images/dog-20-08-2023.png", b"PNG!")
        .with("files/notes-20-08-2023.json", r#"{"todo": []}"#)
}
