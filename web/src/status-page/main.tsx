import { render } from 'preact';
import '../styles/base.css';
import '../styles/status.css';
import { StatusPage } from './page';

const slug = decodeURIComponent(location.pathname.replace(/^\/status\//, '').replace(/\/$/, ''));
render(<StatusPage slug={slug} />, document.getElementById('app')!);
