const { finished } = require('stream/promises');
const { task, src, dest } = require('gulp');

// tsc emits only JavaScript; n8n also needs the SVG icons beside each built node and credential.
async function copyIcons() {
	await Promise.all(
		['nodes', 'credentials'].map((folder) =>
			finished(
				src(`${folder}/**/*.{png,svg}`, { allowEmpty: true, encoding: false }).pipe(
					dest(`dist/${folder}`),
				),
			),
		),
	);
}

task('build:icons', copyIcons);
