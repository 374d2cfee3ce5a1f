import calculateSlot from 'cluster-key-slot';

/** CRC16 (XMODEM) of the key, or of its hash tag {...} when it has a non-empty one, modulo 16384. */
export const keySlot = (key: string): number => calculateSlot(key);
