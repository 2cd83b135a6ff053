import { render } from 'preact';
import { App } from './app';
import { MeshStore } from './mesh-store';
import './styles/base.css';
import './styles/dashboard.css';

const store = new MeshStore();
render(<App store={store} />, document.getElementById('app')!);
void store.start();
