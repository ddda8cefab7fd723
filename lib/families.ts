/**
 * The schema families built from the generated spec tables, shared by
 * every object file (link, addr, route, ...). Built lazily on first use.
 */
import { FamilySchemas } from './netlink/schema';
import { withKindTables } from './link-kinds';
import { rtLink } from './specs';

export const rtLinkSchemas = new FamilySchemas(withKindTables(rtLink));
