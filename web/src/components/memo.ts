import { Component, type ComponentType, h } from 'preact';

/**
 * A component that renders again only when `same(prev, next)` is false:
 * what preact/compat's memo does, without pulling compat into the bundle.
 */
export function memo<P extends object>(Inner: ComponentType<P>, same: (prev: P, next: P) => boolean): ComponentType<P> {
  class Memo extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      return !same(this.props, next);
    }
    override render() {
      return h(Inner, this.props);
    }
  }
  return Memo as unknown as ComponentType<P>;
}
