/**
 * How a Double Ratchet session uses SPQR (libsignal rust/protocol ratchet.rs and
 * triple_ratchet.rs): PQXDH's HKDF yields 32 more bytes, the SPQR auth key; Alice's state is
 * A2B, Bob's B2A; every message carries `spqrSend`'s output in SignalMessage field 5, and the
 * SPQR message key (when there is one) is the HKDF salt of that message's keys.
 *
 * Modes, by the peer they are for:
 *   - 'required' (libsignal ≥ 0.92, e.g. 0.103): SPQR v1, minimum v1 — a peer without SPQR
 *     is refused, as libsignal does.
 *   - 'offered' (libsignal 0.83–0.91, e.g. 0.90): SPQR v1, minimum v0 — downgrades to no SPQR
 *     when the peer sends an empty field 5.
 *   - 'off' (pre-SPQR peers, e.g. 0.72; tests only): no SPQR state, field 5 left empty.
 * A session stored before SPQR has an empty state and simply keeps working without it.
 * @module
 */
import { Direction, LIBSIGNAL_CHAIN_PARAMS, VERSION_0, VERSION_1, initialState } from './index.ts';

export type SpqrMode = 'required' | 'offered' | 'off';

/** The SPQR mode new sessions get unless the caller says otherwise: today's libsignal's. */
export const DEFAULT_SPQR_MODE: SpqrMode = 'required';

export function initialSessionSpqrState(
  mode: SpqrMode,
  authKey: Uint8Array,
  isAlice: boolean,
  sessionVersion: number,
): Uint8Array {
  // X3DH (v3) sessions predate SPQR; libsignal never pairs them.
  if (mode === 'off' || sessionVersion < 4) return new Uint8Array(0);
  return initialState({
    direction: isAlice ? Direction.A2B : Direction.B2A,
    version: VERSION_1,
    minVersion: mode === 'required' ? VERSION_1 : VERSION_0,
    authKey,
    chainParams: LIBSIGNAL_CHAIN_PARAMS,
  });
}
