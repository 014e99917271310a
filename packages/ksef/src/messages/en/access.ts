/** English catalogue, section for access rules, reports and the use cases behind the admin server's procedures. Parameters are written `{{name}}`. */
export const access = {
  "access.audit.chooseScope": "Choose a company or an entity: your role reads only part of the log.",
  "access.audit.companyLogForbidden": "Only the company's admins and auditors read its whole log.",
  "access.audit.noEntity": "No entity with id {{id}}.",
  "access.audit.verifyForbidden": "Your role may not verify the audit log.",
  "access.certificates.badCursor": "The cursor is not one this server gave out.",
  "access.certificates.countCap": "countCap must be a positive integer.",
  "access.certificates.expiringWithinDays": "expiringWithinDays must be a number of days from 0 to 36500.",
  "access.certificates.limit": "limit must be an integer from 1 to 200.",
  "access.certificates.search": "The search text may have at most 100 characters.",
  "access.company.addSuperAdminOnly": "Only a super-admin adds companies.",
  "access.audit.limit": "limit must be an integer from {{min}} to {{max}}.",
  "access.audit.cursor": "The cursor is not valid.",
} as const;
