/** A source of the current time. Every expiry decision in auth-kit goes through one. */
export type Clock = () => Date;

/** The default clock: the system time. */
export const systemClock: Clock = () => new Date();
