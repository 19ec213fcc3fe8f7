CREATE TABLE `opt_outs` (
	`channel_id` text NOT NULL,
	`citizen_id` text NOT NULL,
	`opted_out_at` integer NOT NULL,
	PRIMARY KEY(`channel_id`, `citizen_id`)
);
