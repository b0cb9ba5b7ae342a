/** `GET /health` (liveness) and `GET /ready` (readiness: storage answers, not shutting down). */
import { Type, type Static } from 'typebox';

export const HealthResponse = Type.Object(
  { status: Type.Literal('ok') },
  { additionalProperties: false },
);
export type HealthResponse = Static<typeof HealthResponse>;

export const ReadyResponse = Type.Object(
  { status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]) },
  { additionalProperties: false },
);
export type ReadyResponse = Static<typeof ReadyResponse>;
