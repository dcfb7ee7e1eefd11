/*
 * The lock inventory: one row per lock the audit found, with where it is acquired, whether any
 * acquisition keeps it across an await, and whether heavy synchronous work runs under it.
 */
import type { LockDecl } from './model.js';
import type { Summaries } from './summaries.js';
import type { LockInventoryRow, SourceLocation } from './types.js';

function locKey(loc: SourceLocation): string {
  return `${loc.file}\u0000${String(loc.line).padStart(8, '0')}\u0000${String(loc.column).padStart(6, '0')}`;
}

/** Marks acquisitions, held-across-await and heavy work on the declarations. */
export function collectLockFacts(summaries: Summaries): void {
  for (const unit of summaries.units) {
    for (const event of unit.acquires) {
      const decl = event.ref.decl;
      decl.listed = true;
      if (!decl.acquisitions.some((l) => l.file === event.site.file && l.line === event.site.line && l.column === event.site.column)) {
        const { message: _message, ...loc } = event.site;
        decl.acquisitions.push(loc);
      }
    }
    for (const event of unit.awaits) for (const hold of summaries.effective(unit, event.held)) hold.ref.decl.heldAcrossAwait = true;
    for (const event of unit.blocking) for (const hold of summaries.effective(unit, event.held)) hold.ref.decl.heavySync = true;
    for (const call of unit.calls) {
      const held = summaries.effective(unit, call.held);
      if (held.length === 0 || summaries.blockingPath(call.callee) === null) continue;
      for (const hold of held) hold.ref.decl.heavySync = true;
    }
  }
}

/**
 * The inventory rows, sorted by location.
 *
 * @example
 * const rows = inventoryRows(resolver.decls.values());
 */
export function inventoryRows(decls: Iterable<LockDecl>): LockInventoryRow[] {
  const rows: LockInventoryRow[] = [];
  for (const decl of decls) {
    if (!decl.listed) continue;
    rows.push({
      id: decl.id,
      name: decl.name,
      location: decl.location,
      kind: decl.def.kind,
      type: decl.def.type,
      reentrant: decl.def.reentrant,
      acquisitions: [...decl.acquisitions].sort((a, b) => (locKey(a) < locKey(b) ? -1 : locKey(a) > locKey(b) ? 1 : 0)),
      heldAcrossAwait: decl.heldAcrossAwait,
      heavySyncUnderLock: decl.heavySync,
      ...(decl.rank !== undefined ? { rank: decl.rank } : {}),
    });
  }
  return rows.sort((a, b) => {
    const ka = locKey(a.location);
    const kb = locKey(b.location);
    return ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}
