// The dashboard's browser entry point (bundled by scripts/build-web.mjs):
// the theme, then every custom element, then the shell renders the page
// for the current URL.
import './styles/theme.css';
import { restoreTheme } from './theme.js';
import './components/kpi-card.js';
import './components/threat-badge.js';
import './components/data-table.js';
import './components/pager.js';
import './components/classify-dialog.js';
import './components/detection-ticker.js';
import './charts/ja4-chart.js';
import './pages/login-page.js';
import './pages/overview-page.js';
import './pages/detections-page.js';
import './pages/ja4-page.js';
import './pages/ip-page.js';
import './pages/campaigns-page.js';
import './pages/cluster-page.js';
import './pages/logs-page.js';
import './pages/model-page.js';
import './pages/pipeline-page.js';
import './pages/audit-page.js';
import './pages/users-page.js';
import './pages/wall-page.js';
import './pages/not-found-page.js';
import './components/app-shell.js';

restoreTheme();
