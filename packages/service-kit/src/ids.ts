import { v7 as uuidv7, validate, version } from 'uuid';

/** Creates a new UUIDv7, the id type of every HMS record: time-ordered, so indexes stay compact. */
export function newId(): string {
  return uuidv7();
}

/** Tells whether `value` is a UUID of any version, the format of ids from other services and events. */
export function isUuid(value: string): boolean {
  return validate(value);
}

/** Tells whether `value` is a UUIDv7. */
export function isUuidV7(value: string): boolean {
  return validate(value) && version(value) === 7;
}
