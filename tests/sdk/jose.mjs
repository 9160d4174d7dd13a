// jose.mjs — what tests/auth.bats needs of JOSE, from key files made by the `openssl` command:
// the public JWK of a PEM key, a JWKS of several, and compact JWS tokens signed with them (or
// "signed" the ways a token must be refused: alg none, HS256 keyed with a public key). Node's
// crypto only (no JOSE library). Used as a module by auth.mjs, and from the command line:
//   node jose.mjs jwks KEYDIR NAME:KID...      prints a JWKS of KEYDIR/NAME.pem's public keys
//   node jose.mjs sign KEYDIR NAME ALG KID CLAIMS-JSON   prints a token
// RFC 7515, 7517, 7518, 8037.
import { createHmac, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const b64u = buf => Buffer.from(buf).toString('base64url');

/** The private key in DIR/NAME.pem. */
export function keyOf(dir, name) {
    return createPrivateKey(readFileSync(`${dir}/${name}.pem`));
}

/** The public JWK of a key, with kid and the members of extra. */
export function jwkOf(key, kid, extra = {}) {
    const jwk = createPublicKey(key).export({ format: 'jwk' });
    return { ...jwk, kid, ...extra };
}

/** The JWS algorithm a key signs with. */
export function algOf(key) {
    switch (key.asymmetricKeyType) {
    case 'rsa': return 'RS256';
    case 'ec': return 'ES256';
    case 'ed25519': return 'EdDSA';
    default: throw new Error(`no JWS alg for ${key.asymmetricKeyType}`);
    }
}

/** A compact JWS of claims under header, signed with key as header.alg says: RS256, ES256
 * (r || s, not DER), EdDSA; HS256 with hmacSecret; "none" with an empty signature. */
export function jws(header, claims, { key, hmacSecret } = {}) {
    const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
    let sig;
    switch (header.alg) {
    case 'RS256': sig = sign('sha256', Buffer.from(input), key); break;
    case 'ES256': sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }); break;
    case 'EdDSA': case 'Ed25519': sig = sign(null, Buffer.from(input), key); break;
    case 'HS256': sig = createHmac('sha256', hmacSecret).update(input).digest(); break;
    default: sig = Buffer.alloc(0);
    }
    return `${input}.${b64u(sig)}`;
}

/** An access token for the test stacks: iss, aud, sub, scope, exp an hour from now;
 * override any claim with claims. */
export function accessToken(key, kid, { iss, aud, sub = 'alice', scope = 'mcp', ...claims } = {}) {
    const now = Math.floor(Date.now() / 1000);
    return jws({ alg: algOf(key), kid, typ: 'at+jwt' },
        { iss, aud, sub, scope, iat: now, exp: now + 3600, ...claims }, { key });
}

if (process.argv[1] && process.argv[1].endsWith('jose.mjs')) {
    const [cmd, dir, ...rest] = process.argv.slice(2);
    if (cmd === 'jwks') {
        const keys = rest.map(nk => {
            const [name, kid] = nk.split(':');
            const key = keyOf(dir, name);
            return jwkOf(key, kid, { use: 'sig', alg: algOf(key) });
        });
        console.log(JSON.stringify({ keys }));
    } else if (cmd === 'sign') {
        const [name, alg, kid, claims] = rest;
        console.log(jws({ alg, kid }, JSON.parse(claims), { key: keyOf(dir, name) }));
    } else {
        console.error('usage: node jose.mjs jwks KEYDIR NAME:KID... | sign KEYDIR NAME ALG KID CLAIMS');
        process.exit(2);
    }
}
