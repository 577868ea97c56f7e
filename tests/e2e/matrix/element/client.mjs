// An Element-grade Matrix client for koopbot's e2e tests: matrix-js-sdk with its Rust crypto
// (the WASM build Element Web runs), insecure devices excluded as Element does since MSC4153,
// its own user cross-signed with secret storage.
//
// Driven over stdin/stdout, one JSON object a line: a request {"id", "op", ...} gets one
// answer {"id", "ok": true, ...} or {"id", "ok": false, "error"}. Everything the SDK logs goes
// to stderr. Secrets (the password) arrive on stdin only, never on the command line.

import readline from "node:readline";

// The SDK and its crypto log through console: keep stdout for the protocol.
const toStderr = (...args) => process.stderr.write(args.map(String).join(" ") + "\n");
for (const name of ["log", "info", "warn", "error", "debug", "trace"]) console[name] = toStderr;

const sdk = await import("matrix-js-sdk");
const cryptoApi = await import("matrix-js-sdk/lib/crypto-api/index.js");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
logger.setLevel(process.env.ELEMENT_CLIENT_LOG_LEVEL || "warn");

const state = {
    client: null,
    userId: null,
    secretStorageKey: null, // [keyId, key] once bootstrapped
    messages: [], // every m.room.message from others, in arrival order
};

function send(obj) {
    process.stdout.write(JSON.stringify(obj) + "\n");
}

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(what, condition, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await condition();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
    }
}

function enumName(enumObject, value) {
    return value === null || value === undefined ? null : (enumObject[value] ?? String(value));
}

// One received message and what the crypto layer says about it.
function track(event, room) {
    if (event.getSender() === state.userId) return;
    const entry = {
        event,
        roomId: room.roomId,
        eventId: event.getId(),
        sender: event.getSender(),
        encrypted: event.isEncrypted(),
        everFailed: false,
        failureReasons: [],
    };
    state.messages.push(entry);
}

// Wake whoever waits for messages: on every timeline event and every decryption.
const waiters = new Set();
function notify() {
    for (const wake of waiters) wake();
}

function changed(timeoutMs) {
    return new Promise((resolve) => {
        const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
        };
        const timer = setTimeout(wake, timeoutMs);
        waiters.add(wake);
    });
}

function noteFailure(event) {
    for (const entry of state.messages) {
        if (entry.event === event && event.isDecryptionFailure()) {
            entry.everFailed = true;
            const reason = event.decryptionFailureReason;
            if (reason && !entry.failureReasons.includes(reason)) entry.failureReasons.push(reason);
        }
    }
}

async function describe(entry) {
    const event = entry.event;
    const content = event.getContent();
    let shield = null;
    if (entry.encrypted && !event.isDecryptionFailure() && !event.isBeingDecrypted()) {
        shield = await state.client.getCrypto().getEncryptionInfoForEvent(event);
    }
    return {
        roomId: entry.roomId,
        eventId: entry.eventId,
        sender: entry.sender,
        type: event.getType(),
        msgtype: content.msgtype ?? null,
        body: content.body ?? null,
        formattedBody: content.formatted_body ?? null,
        relatesTo: content["m.relates_to"] ?? null,
        encrypted: entry.encrypted,
        decrypted: entry.encrypted && !event.isDecryptionFailure() && !event.isBeingDecrypted(),
        decryptionFailure: event.isDecryptionFailure(),
        failureReason: event.decryptionFailureReason ?? null,
        everFailed: entry.everFailed,
        failureReasons: entry.failureReasons,
        shieldColour: shield ? enumName(cryptoApi.EventShieldColour, shield.shieldColour) : null,
        shieldReason: shield ? enumName(cryptoApi.EventShieldReason, shield.shieldReason) : null,
    };
}

function settled(entry, failSettleMs) {
    const event = entry.event;
    if (event.isBeingDecrypted()) return false;
    if (!event.isDecryptionFailure()) return event.getType() === "m.room.message";
    // A failure may still heal when the key arrives; count it once it has lasted a while.
    entry.failedSince ??= Date.now();
    return Date.now() - entry.failedSince >= failSettleMs;
}

function roomMessages(roomId, sender) {
    return state.messages.filter(
        (m) => m.roomId === roomId && m.sender === sender && ["m.room.message", "m.room.encrypted"].includes(m.event.getType()),
    );
}

async function createEncryptedRoom(invite, direct) {
    const { room_id: roomId } = await state.client.createRoom({
        is_direct: direct,
        preset: direct ? "trusted_private_chat" : "private_chat",
        invite,
        initial_state: [
            { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } },
        ],
    });
    return roomId;
}

async function waitJoined(roomId, userIds, timeoutMs) {
    const joined = (u) => state.client.getRoom(roomId)?.getMember(u)?.membership === "join";
    await until(`${userIds.join(", ")} to join ${roomId}`, () => userIds.every(joined), timeoutMs);
}

const ops = {
    async login({ homeserver, userId, password, isolation = "onlySigned", deviceName = "Element" }) {
        const bare = sdk.createClient({ baseUrl: homeserver });
        const login = await bare.loginRequest({
            type: "m.login.password",
            identifier: { type: "m.id.user", user: userId },
            password,
            initial_device_display_name: deviceName,
        });
        state.userId = login.user_id;
        const client = sdk.createClient({
            baseUrl: homeserver,
            userId: login.user_id,
            deviceId: login.device_id,
            accessToken: login.access_token,
            cryptoCallbacks: {
                getSecretStorageKey: async ({ keys }) => {
                    const known = state.secretStorageKey;
                    return known && keys[known[0]] ? known : null;
                },
                cacheSecretStorageKey: (keyId, _info, key) => {
                    state.secretStorageKey = [keyId, key];
                },
            },
        });
        state.client = client;
        await client.initRustCrypto({ useIndexedDB: false });
        const crypto = client.getCrypto();
        crypto.setDeviceIsolationMode(
            isolation === "all"
                ? new cryptoApi.AllDevicesIsolationMode(false)
                : new cryptoApi.OnlySignedDevicesIsolationMode(),
        );
        client.on(sdk.RoomEvent.Timeline, (event, room, toStartOfTimeline) => {
            if (!toStartOfTimeline && room) track(event, room);
            notify();
        });
        client.on(sdk.MatrixEventEvent.Decrypted, (event) => {
            noteFailure(event);
            notify();
        });
        const prepared = new Promise((resolve) => {
            client.on(sdk.ClientEvent.Sync, (syncState) => {
                if (syncState === "PREPARED") resolve();
            });
        });
        await client.startClient({ initialSyncLimit: 10 });
        await prepared;
        // Its own identity, as Element sets up on first login: cross-signing (password UIA
        // if the server asks) and secret storage holding the private keys.
        await crypto.bootstrapCrossSigning({
            authUploadDeviceSigningKeys: async (makeRequest) => {
                await makeRequest({
                    type: "m.login.password",
                    identifier: { type: "m.id.user", user: login.user_id },
                    password,
                });
            },
        });
        await crypto.bootstrapSecretStorage({
            setupNewSecretStorage: true,
            createSecretStorageKey: async () => crypto.createRecoveryKeyFromPassphrase(),
        });
        const status = await crypto.getCrossSigningStatus();
        return { userId: login.user_id, deviceId: login.device_id, crossSigning: status };
    },

    async createDm({ userId, timeoutMs = 30000 }) {
        const roomId = await createEncryptedRoom([userId], true);
        // As Element does: remember the direct chat in m.direct.
        const client = state.client;
        const direct = client.getAccountData("m.direct")?.getContent() ?? {};
        direct[userId] = [...(direct[userId] ?? []), roomId];
        await client.setAccountData("m.direct", direct);
        await waitJoined(roomId, [userId], timeoutMs);
        return { roomId };
    },

    async createGroup({ invite }) {
        return { roomId: await createEncryptedRoom(invite, false) };
    },

    async waitJoined({ roomId, userIds, timeoutMs = 30000 }) {
        await waitJoined(roomId, userIds, timeoutMs);
        return {};
    },

    async join({ roomId, timeoutMs = 30000 }) {
        await state.client.joinRoom(roomId);
        await waitJoined(roomId, [state.userId], timeoutMs);
        return {};
    },

    async send({ roomId, text, content }) {
        const body = content ?? { msgtype: "m.text", body: text };
        const { event_id: eventId } = await state.client.sendMessage(roomId, body);
        return { eventId };
    },

    async count({ roomId, sender }) {
        return { count: roomMessages(roomId, sender).length };
    },

    async wait({ roomId, sender, count, timeoutMs = 30000, failSettleMs = 3000 }) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const found = roomMessages(roomId, sender);
            const ready = found.length >= count && found.slice(0, count).every((m) => settled(m, failSettleMs));
            if (ready || Date.now() > deadline) {
                return { timedOut: !ready, messages: await Promise.all(found.map(describe)) };
            }
            await changed(250); // a failure settles by time alone
        }
    },

    async ask({ roomId, sender, text, timeoutMs = 30000 }) {
        // One round trip timed inside the client: send, until the answer is decrypted.
        const before = roomMessages(roomId, sender).length;
        const started = performance.now();
        const { event_id: eventId } = await state.client.sendMessage(roomId, { msgtype: "m.text", body: text });
        const sentMs = performance.now() - started;
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const found = roomMessages(roomId, sender);
            if (found.length > before && settled(found[before], 3000)) {
                const roundTripMs = performance.now() - started;
                return { eventId, sentMs, roundTripMs, message: await describe(found[before]) };
            }
            if (Date.now() > deadline) throw new Error(`no answer to ${JSON.stringify(text)} within ${timeoutMs} ms`);
            await changed(250);
        }
    },

    async userDevices({ userId }) {
        const crypto = state.client.getCrypto();
        const map = await crypto.getUserDeviceInfo([userId], true);
        const devices = [...(map.get(userId)?.values() ?? [])];
        const result = [];
        for (const d of devices) {
            const status = await crypto.getDeviceVerificationStatus(userId, d.deviceId);
            result.push({ deviceId: d.deviceId, signedByOwner: status?.signedByOwner ?? false });
        }
        const identity = await crypto.getUserVerificationStatus(userId);
        return { devices: result, known: identity.known, needsUserApproval: identity.needsUserApproval };
    },

    async recoveryKeyCheck({ recoveryKey, keyInfo, secrets }) {
        // For the spec interop test: decode a recovery key and decrypt secrets as Element would.
        const key = cryptoApi.decodeRecoveryKey(recoveryKey);
        const check = await sdk.SecretStorage.calculateKeyCheck(key, keyInfo.iv);
        const { default: decrypt } = await import("matrix-js-sdk/lib/utils/decryptAESSecretStorageItem.js");
        const plain = {};
        for (const [name, payload] of Object.entries(secrets)) plain[name] = await decrypt(payload, key, name);
        return { macMatches: check.mac.replace(/=+$/, "") === keyInfo.mac.replace(/=+$/, ""), plain, encoded: cryptoApi.encodeRecoveryKey(key) };
    },

    async ssssEncrypt({ key, secrets }) {
        // The other direction: Element's own code writes, koopbot reads.
        const raw = sdk.decodeBase64(key);
        const { default: encrypt } = await import("matrix-js-sdk/lib/utils/encryptAESSecretStorageItem.js");
        const encrypted = {};
        for (const [name, plain] of Object.entries(secrets)) encrypted[name] = await encrypt(plain, raw, name);
        const check = await sdk.SecretStorage.calculateKeyCheck(raw);
        return { recoveryKey: cryptoApi.encodeRecoveryKey(raw), keyInfo: { algorithm: "m.secret_storage.v1.aes-hmac-sha2", ...check }, encrypted };
    },

    async stop() {
        if (state.client) {
            state.client.stopClient();
            await state.client.getCrypto()?.stop?.();
        }
        setTimeout(() => process.exit(0), 10);
        return {};
    },
};

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", async (line) => {
    let request;
    try {
        request = JSON.parse(line);
    } catch {
        send({ id: null, ok: false, error: "not JSON" });
        return;
    }
    const handler = ops[request.op];
    if (!handler) {
        send({ id: request.id, ok: false, error: `unknown op ${request.op}` });
        return;
    }
    try {
        send({ id: request.id, ok: true, ...(await handler(request)) });
    } catch (err) {
        send({ id: request.id, ok: false, error: `${err?.name ?? "Error"}: ${err?.message ?? err}` });
    }
});
lines.on("close", () => process.exit(0));
