// ObjectBench: the object pipeline of one node against the floor of libsodium doing only the
// cryptography, on the same objects, in the same process, on one core (issue 7, item 1).
//
//   receive: overlay envelope decode → size/parse/time checks → seen-cache lookup → membership
//            signature verify → seen-cache insert → forwarding copy (hop limit − 1) → decrypt
//            → unpad → delivery on a subscription stream, consumed by the caller
//   floor:   Ed25519 verify + BLAKE2b-256 (id) + XChaCha20-Poly1305 decrypt, in place
//
//   publish: PubSub.publish: pad, encrypt, sign, id into the seen cache, hand to the network
//   floor:   random nonce + encrypt (pre-padded) + BLAKE2b-256 + Ed25519 sign, in place
//
// Rates are objects per CPU-second of this process (all threads), the median over interleaved
// rounds: on a shared machine CPU time hardly moves when other programs take the core.
//
//   ObjectBench [--rounds 5] [--scale 1.0]
import BenchSupport

Console.lineBuffered()
await ObjectBench.main(Arguments())
