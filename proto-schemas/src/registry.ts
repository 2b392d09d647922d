import { createRegistry, type Registry } from '@bufbuild/protobuf';

/**
 * Every message HMS may carry in EventEnvelope.payload. unpackPayload resolves type URLs here, so a
 * payload message missing from this list cannot be read by consumers.
 */
export const payloadRegistry: Registry = createRegistry();
