"""Pure rules of the webhook, no I/O: who is calling and may they (`webhook`, `network`,
`passphrases`), and how a body becomes an `Alert` (`parsing`, `textgrammar`, `names`,
`values`, `normalise`, `instruments`, `targets`, `traderspost`, `rules`, `audit`)."""
