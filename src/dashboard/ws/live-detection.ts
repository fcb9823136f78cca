// The detection as the WebSocket feed pushes it (api-types' LiveDetection):
// built field by field, so a column added to Detection does not silently
// grow every frame sent to every screen.
import type { Detection, LiveDetection } from '../api-types.js';

export function liveDetection(d: Detection): LiveDetection {
  return {
    detected_at: d.detected_at,
    window: d.window,
    client_ip: d.client_ip,
    ja4: d.ja4,
    host: d.host,
    score: d.score,
    threat_level: d.threat_level,
    bot_name: d.bot_name,
    campaign_id: d.campaign_id,
  };
}
