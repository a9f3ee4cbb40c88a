// Append events to the ledger from Node.js (18 or later: fetch is built in).
//   LEDGER_URL=http://127.0.0.1:8080 LEDGER_TOKEN=... node docs/examples/emit.mjs
// A retry of the same events (same event_id) appends nothing again, so on a time-out
// or a 5xx the whole batch may simply be sent again.
import { randomUUID } from "node:crypto";

const url = process.env.LEDGER_URL ?? "http://127.0.0.1:8080";
const token = process.env.LEDGER_TOKEN;

const events = [
  {
    type: "ConsentGiven",
    event_id: randomUUID(), // keep it with the order, so that a retry reuses it
    subject: "ines.moreau@example.fr", // pseudonymised by the ledger, never stored as is
    controller: "informatique70",
    purpose: "newsletter",
    channel: "web-form",
    notice_version: "politique-2023-01",
    occurred_at: new Date().toISOString(),
  },
];

async function emit(batch) {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${url}/v1/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(batch),
    });
    if (response.ok) return response.json();
    if (response.status >= 500 && attempt < 3) continue; // safe: same event ids
    // 422: nothing was appended; every problem is listed by index, field, rule and fix
    throw new Error(`HTTP ${response.status}: ${JSON.stringify(await response.json())}`);
  }
}

const answer = await emit(events);
for (const r of answer.receipts) console.log(`${r.type}\t${r.event_id}\t${r.key}`);
console.log(`appended ${answer.appended}, already there ${answer.duplicates}`);
