package desktop

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// hqGPKG is the extension of a GeoPackage, the file QGIS and ArcGIS open.
const hqGPKG = "gpkg"

// chooseGeoPackage asks for the folder to write a GeoPackage of the type
// picked into.
func (v *hqView) chooseGeoPackage() {
	typeName := v.selectedType()
	if typeName == "" {
		v.u.showError(errors.New(v.u.T("hq.export.typeunknown")))
		return
	}
	personal := v.personal.Checked
	askFolder(v.u.win, func(dir string) { v.exportGeoPackageTo(dir, typeName, personal) })
}

// exportGeoPackageTo writes the records of a type as a GeoPackage into a
// new file in dir, named as exportTo names its files, off the UI thread,
// and says where. The file is reserved first and replaced only by the
// GeoPackage written whole (Node.ExportGeoPackage); a failed or cancelled
// export leaves nothing.
func (v *hqView) exportGeoPackageTo(dir, typeName string, personal bool) {
	u := v.u
	var count int
	var path string
	ph := v.newPhotoExport()
	u.job(u.T("hq.exporting"), func(ctx context.Context, progress func(string)) error {
		f, p, err := createExport(u.node, dir, typeName, hqGPKG)
		if err != nil {
			return err
		}
		f.Close()
		path = p
		layers, err := u.node.ExportGeoPackage(ctx, p, []string{typeName}, ph.options(personal))
		if err == nil {
			count = layers[0].Rows
			err = ph.write(ctx, p)
		}
		if err != nil {
			os.Remove(p)
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	}, func(err error) string {
		switch {
		case errors.Is(err, context.Canceled) && u.ctx.Err() == nil:
			v.result.SetText(u.T("hq.export.cancelled"))
			return v.result.Text
		case err != nil:
			v.result.SetText("")
			return ""
		case personal:
			v.result.SetText(fmt.Sprintf(u.T("hq.exported.personal"), count, path) + ph.said())
		default:
			v.result.SetText(fmt.Sprintf(u.T("hq.exported"), count, path) + ph.said())
		}
		return v.result.Text
	})
}
