/**
 * A minimal typed in-process event bus. Handlers run synchronously in the
 * order they subscribed; a throwing handler is reported to onError and does
 * not stop the others (one bad consumer must not blind the rest).
 */
export class EventBus<Events extends { [K in keyof Events]: unknown }> {
  private handlers: { [K in keyof Events]?: Array<(payload: Events[K]) => void> } = {};

  constructor(private readonly onError: (err: unknown, event: keyof Events) => void = () => {}) {}

  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof Events>(event: K, handler: (payload: Events[K]) => void): () => void {
    const list = this.handlers[event] ?? [];
    this.handlers[event] = list;
    list.push(handler);
    return () => {
      const current = this.handlers[event];
      if (current) this.handlers[event] = current.filter((h) => h !== handler);
    };
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.handlers[event];
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i]!(payload);
      } catch (err) {
        this.onError(err, event);
      }
    }
  }

  /** Whether anyone listens, so producers can skip building payloads. */
  has<K extends keyof Events>(event: K): boolean {
    return (this.handlers[event]?.length ?? 0) > 0;
  }
}
