import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import { getWorkspace, updateWorkspaceSettings, type Workspace } from '../../workspaces/workspaces-store.ts';
import { notFound } from '../errors.ts';
import type { Routes } from '../route-kit.ts';

const workspacePatch = z.strictObject({
  /** Consecutive failures after which a sending campaign pauses itself. */
  autoPauseThreshold: z.number().int().min(1).max(1000).optional(),
});

function view(w: Workspace) {
  return { id: w.id, name: w.name, autoPauseThreshold: w.autoPauseThreshold, createdAt: new Date(w.createdAt).toISOString() };
}

/** The caller's own workspace and its settings (auto-pause threshold, default 5). */
export function workspaceRoutes(r: Routes, ctx: AppContext): void {
  r.add({
    method: 'GET', url: '/api/v1/workspace', tag: 'workspace', role: 'viewer', summary: 'The workspace of the key or session, with its settings',
    success: { status: 200, description: '{id, name, autoPauseThreshold, createdAt}' },
    handler: async ({ auth }) => {
      const w = await getWorkspace(ctx.db, auth.workspaceId);
      if (!w) throw notFound('Workspace');
      return view(w);
    },
  });
  r.add({
    method: 'PATCH', url: '/api/v1/workspace', tag: 'workspace', role: 'admin', body: workspacePatch, summary: 'Change workspace settings (autoPauseThreshold)',
    success: { status: 200, description: 'The workspace' },
    handler: async ({ auth, body }) => {
      await updateWorkspaceSettings(ctx.db, auth.workspaceId, body);
      const w = await getWorkspace(ctx.db, auth.workspaceId);
      if (!w) throw notFound('Workspace');
      return view(w);
    },
  });
}
